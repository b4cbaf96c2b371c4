"""Column types that keep money exact and time zone-aware on SQLite and PostgreSQL.

SQLite has neither a decimal nor a time zone-aware timestamp type, so these
decorators store text there and the native types on PostgreSQL; both engines
hand back the same Python values.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

from sqlalchemy import DateTime, Dialect, Numeric, Text, Uuid
from sqlalchemy.types import TypeDecorator, TypeEngine

# Read-model code imports all its column types from this module.
UuidType = Uuid


def canonical_decimal_text(value: Decimal | int) -> str:
    """The plain-notation text of a finite decimal, without trailing zeros.

    `Decimal("1E-18")` -> "0.000000000000000001", `Decimal("1.50")` -> "1.5",
    `Decimal("-0")` -> "0". Exact for any number of digits: unlike
    `Decimal.normalize()` it never rounds to the context precision.
    """
    if value.__class__ is int:
        return str(value)
    if value.__class__ is Decimal and value.is_finite():
        number = value
    else:
        if isinstance(value, bool) or not isinstance(value, Decimal | int):
            raise TypeError(f"expected Decimal or int, got {type(value).__name__}: {value!r}")
        number = Decimal(value)
        if not number.is_finite():
            raise ValueError(f"cannot store a non-finite decimal: {number}")
    text = format(number, "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return "0" if text == "-0" else text


class DecimalType(TypeDecorator[Decimal]):
    """An exact `Decimal`: NUMERIC on PostgreSQL, canonical text on SQLite.

    Values are stored in canonical form (see `canonical_decimal_text`), so
    equality filters work on SQLite too; ordering by such a column on SQLite
    sorts as text, not numerically. Floats are refused: no float on the money
    path.
    """

    impl = Text
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        if dialect.name == "postgresql":
            return dialect.type_descriptor(Numeric(asdecimal=True))
        return dialect.type_descriptor(Text())

    def process_bind_param(self, value: Any, dialect: Dialect) -> Any:
        if value is None:
            return None
        text = canonical_decimal_text(value)
        return Decimal(text) if dialect.name == "postgresql" else text

    def process_result_value(self, value: Any, dialect: Dialect) -> Decimal | None:
        if value is None or isinstance(value, Decimal):
            return value
        return Decimal(value)

    @property
    def python_type(self) -> type[Decimal]:
        return Decimal


class UtcDateTime(TypeDecorator[datetime]):
    """A time zone-aware datetime, stored in UTC, always returned aware in UTC.

    TIMESTAMP WITH TIME ZONE on PostgreSQL; on SQLite SQLAlchemy's DATETIME
    text (fixed width, so it sorts chronologically) holding the UTC wall time.
    Naive datetimes are refused rather than guessed at.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if not isinstance(value, datetime):
            raise TypeError(f"expected datetime, got {type(value).__name__}: {value!r}")
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError(f"refusing a naive datetime (no time zone): {value.isoformat()}")
        utc = value.astimezone(UTC)
        return utc if dialect.name == "postgresql" else utc.replace(tzinfo=None)

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)

    @property
    def python_type(self) -> type[datetime]:
        return datetime


Column = Sequence[Any]
ColumnConverter = Callable[[Column], list[Any]]
# SQLAlchemy's SQLite DATETIME storage format, positionally.
_SQLITE_DATETIME = "%04d-%02d-%02d %02d:%02d:%02d.%06d"
_SAMPLES: dict[type, list[Any]] = {
    DecimalType: [Decimal("1.50"), Decimal("-0.0"), Decimal("1E+3"), Decimal("-2E-18"), 7, None],
    UtcDateTime: [datetime(2026, 1, 2, 3, 4, 5, 6, tzinfo=UTC), datetime(999, 1, 1, tzinfo=UTC)],
    Uuid: [UUID(int=1), UUID("5f1d3c0e-4a8b-4c2e-9e57-0b6c1d2e3f40"), None],
}


def column_converter(type_: TypeEngine[Any], dialect: Dialect) -> ColumnConverter | None:
    """What `type_`'s bind processor makes of each value of a column, for many rows at
    once; None where the driver takes the values as they are.

    Values of the usual kind (a Decimal or int, a datetime in UTC, a UUID) are
    converted inline, the way the processor converts them; any other goes through the
    processor itself, errors included. Per-row bind processing cost a rebuild as much
    as SQLite's own work on the rows."""
    process = type_.dialect_impl(dialect).bind_processor(dialect)
    if process is None:
        return None
    postgres = dialect.name == "postgresql"
    convert = None
    if isinstance(type_, DecimalType):
        convert = _decimal_values(process) if postgres else _decimal_texts(process)
        samples = _SAMPLES[DecimalType]
    elif isinstance(type_, UtcDateTime):
        convert = _utc_datetimes(process) if postgres else _sqlite_datetimes(process)
        samples = _SAMPLES[UtcDateTime]
    elif isinstance(type_, Uuid) and type_.as_uuid and not postgres:
        convert = _uuid_hexes(process)
        samples = _SAMPLES[Uuid]
    if convert is not None and convert(samples) == [process(v) for v in samples]:
        return convert
    # Another type, or a SQLAlchemy whose processor converts otherwise: the processor.
    return _each(process)


def _each(process: Callable[[Any], Any]) -> ColumnConverter:
    """Every value through `process`; equal values convert equally, so a column's
    repeated values convert once (keyed by type too: True never stands in for 1).
    None binds as NULL with every type here."""

    def convert(values: Column) -> list[Any]:
        done: dict[tuple[type, Any], Any] = {}
        out = []
        for value in values:
            if value is not None:
                key = (value.__class__, value)
                found = done.get(key, done)
                if found is done:
                    found = done[key] = process(value)
                value = found
            out.append(value)
        return out

    return convert


def _decimal_texts(process: Callable[[Any], Any]) -> ColumnConverter:
    text = canonical_decimal_text

    def convert(values: Column) -> list[Any]:
        return [
            text(v) if v.__class__ is Decimal or v.__class__ is int else process(v) for v in values
        ]

    return convert


def _decimal_values(process: Callable[[Any], Any]) -> ColumnConverter:
    text = canonical_decimal_text

    def convert(values: Column) -> list[Any]:
        return [
            Decimal(text(v)) if v.__class__ is Decimal or v.__class__ is int else process(v)
            for v in values
        ]

    return convert


def _sqlite_datetimes(process: Callable[[Any], Any]) -> ColumnConverter:
    form = _SQLITE_DATETIME

    def convert(values: Column) -> list[Any]:
        return [
            form % (v.year, v.month, v.day, v.hour, v.minute, v.second, v.microsecond)
            if v.__class__ is datetime and v.tzinfo is UTC
            else process(v)
            for v in values
        ]

    return convert


def _utc_datetimes(process: Callable[[Any], Any]) -> ColumnConverter:
    def convert(values: Column) -> list[Any]:
        # astimezone(UTC) of a datetime already in UTC is that datetime.
        return [v if v.__class__ is datetime and v.tzinfo is UTC else process(v) for v in values]

    return convert


def _uuid_hexes(process: Callable[[Any], Any]) -> ColumnConverter:
    def convert(values: Column) -> list[Any]:
        return [f"{v.int:032x}" if v.__class__ is UUID else process(v) for v in values]

    return convert
