"""Column types that keep money exact and time zone-aware on SQLite and PostgreSQL.

SQLite has neither a decimal nor a time zone-aware timestamp type, so these
decorators store text there and the native types on PostgreSQL; both engines
hand back the same Python values.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

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
