"""Instrument specs: the table in force, its recording, and the increment checks."""

from __future__ import annotations

from decimal import Decimal

from application.store import Store
from domain.instruments import InstrumentSpec, InstrumentSpecs, SpecTable


class InstrumentCommands:
    """The specs commands check and book by (from settings, by the composition root)."""

    def __init__(self, store: Store, specs: SpecTable | None = None) -> None:
        self.store = store
        self.specs = specs if specs is not None else SpecTable()

    def spec_for(self, instrument: str) -> InstrumentSpec:
        return self.specs.spec_for(instrument)

    def check_increments(
        self, instrument: str, *, prices: dict[str, Decimal | None], sizes: dict[str, Decimal]
    ) -> InstrumentSpec:
        """BAD_USER_INPUT naming the field when a price or size is off its increment."""
        spec = self.spec_for(instrument)
        for field, price in prices.items():
            spec.check_price(price, field)
        for field, size in sizes.items():
            spec.check_size(size, field)
        return spec

    def record_instrument_specs(self) -> int | None:
        """Record the specs in force when they differ from the last recorded table
        (an `InstrumentSpecs.Configured` event); the sequence, or None if unchanged."""
        rows = self.specs.rows()
        stream = self.store.find(InstrumentSpecs, InstrumentSpecs.create_id())
        if stream is None:
            if not rows:
                return None
            stream = InstrumentSpecs()
        elif stream.specs == rows:
            return None
        stream.configure(specs=rows)
        return self.store.commit(stream)
