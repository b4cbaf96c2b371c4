"""Instrument specs (SPEC section 13): quote currency, increments, multiplier.

Specs come from settings, by instrument or by glob pattern; the table in force
is recorded as an `InstrumentSpecs.Configured` event whenever it changes, so a
replay at any sequence reads the specs that held then.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from fnmatch import fnmatchcase
from functools import lru_cache
from uuid import UUID, uuid5

from eventsourcing.domain import Aggregate, event

from domain.errors import BadInput
from domain.ids import NAMESPACE
from domain.money import CONTEXT, NO_SPEC_PLACES

SpecRow = dict[str, str | None]
SPECS_ID = uuid5(NAMESPACE, "instrument-specs")
_PATTERN_CHARS = frozenset("*?[")


@dataclass(frozen=True)
class InstrumentSpec:
    """How one instrument (or every instrument matching `pattern`) trades and books."""

    pattern: str
    currency: str | None = None
    price_increment: Decimal | None = None
    size_increment: Decimal | None = None
    multiplier: Decimal = Decimal(1)
    places: int = NO_SPEC_PLACES  # the currency's decimal places (ISO 4217 or configured)

    def to_row(self) -> SpecRow:
        return {
            "pattern": self.pattern,
            "currency": self.currency,
            "price_increment": _text(self.price_increment),
            "size_increment": _text(self.size_increment),
            "multiplier": str(self.multiplier),
            "places": str(self.places),
        }

    @classmethod
    def from_row(cls, row: SpecRow) -> InstrumentSpec:
        return cls(
            pattern=str(row["pattern"]),
            currency=row.get("currency"),
            price_increment=_number(row.get("price_increment")),
            size_increment=_number(row.get("size_increment")),
            multiplier=Decimal(row.get("multiplier") or 1),
            places=int(row.get("places") or NO_SPEC_PLACES),
        )

    def check_price(self, value: Decimal | None, field: str) -> None:
        _check_step(value, self.price_increment, field)

    def check_size(self, value: Decimal | None, field: str) -> None:
        _check_step(value, self.size_increment, field)


#: What an instrument with no spec trades by: exact decimals, money to 8 places.
NO_SPEC = InstrumentSpec(pattern="*")


def _text(value: Decimal | None) -> str | None:
    return None if value is None else str(value)


def _number(value: str | None) -> Decimal | None:
    return None if value is None else Decimal(value)


def _check_step(value: Decimal | None, step: Decimal | None, field: str) -> None:
    if value is None or step is None:
        return
    if CONTEXT.remainder(value, step) != 0:
        raise BadInput(f"{field} {value} is not a multiple of the increment {step}", field=field)


class SpecTable:
    """Specs in order: an exact instrument name wins, else the first matching pattern."""

    def __init__(self, specs: tuple[InstrumentSpec, ...] = ()) -> None:
        self.specs = specs
        self._exact = {s.pattern: s for s in specs if not _PATTERN_CHARS & set(s.pattern)}
        self._patterns = tuple(s for s in specs if _PATTERN_CHARS & set(s.pattern))
        self.spec_for = lru_cache(maxsize=4096)(self._resolve)

    def _resolve(self, instrument: str) -> InstrumentSpec:
        found = self._exact.get(instrument)
        if found is not None:
            return found
        for spec in self._patterns:
            if fnmatchcase(instrument, spec.pattern):
                return spec
        return NO_SPEC

    def rows(self) -> list[SpecRow]:
        return [spec.to_row() for spec in self.specs]

    @classmethod
    def from_rows(cls, rows: list[SpecRow]) -> SpecTable:
        return cls(tuple(InstrumentSpec.from_row(row) for row in rows))


class InstrumentSpecs(Aggregate):
    """The one stream of spec tables: each event is the whole table from then on."""

    class Configured(Aggregate.Event):
        specs: list[SpecRow]

    @staticmethod
    def create_id() -> UUID:
        return SPECS_ID

    def __init__(self) -> None:
        self.specs: list[SpecRow] = []

    @event(Configured)
    def configure(self, specs: list[SpecRow]) -> None:
        self.specs = specs
