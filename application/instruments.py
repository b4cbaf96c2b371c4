"""Instrument specs: the table in force, its recording, and the increment checks."""

from __future__ import annotations

from decimal import Decimal

from application.base import CommandBase
from domain.instruments import InstrumentSpec, InstrumentSpecs, SpecTable


class InstrumentCommands(CommandBase):
    #: The specs commands check and book by (set from settings by the composition root).
    instrument_specs = SpecTable()

    def spec_for(self, instrument: str) -> InstrumentSpec:
        return self.instrument_specs.spec_for(instrument)

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
        rows = self.instrument_specs.rows()
        stream = self.find(InstrumentSpecs, InstrumentSpecs.create_id())
        if stream is None:
            if not rows:
                return None
            stream = InstrumentSpecs()
        elif stream.specs == rows:
            return None
        stream.configure(specs=rows)
        return self.commit(stream)
