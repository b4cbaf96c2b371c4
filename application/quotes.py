"""Quote ingest: one event per batch, never reloading a growing aggregate."""

from __future__ import annotations

from collections.abc import Sequence

from application.inputs import MAX_QUOTES_PER_BATCH, QuoteInput
from application.instruments import InstrumentCommands
from application.results import Ingested
from application.store import Store
from domain.errors import BadInput
from domain.quotes import Quote, Quotes


class QuoteCommands:
    def __init__(self, store: Store, instruments: InstrumentCommands) -> None:
        self.store = store
        self.instruments = instruments

    def ingest_quotes(self, quotes: Sequence[QuoteInput]) -> Ingested:
        """Append a batch of at most 10 000 quotes as one QuotesIngested event."""
        if len(quotes) > MAX_QUOTES_PER_BATCH:
            raise BadInput(
                f"at most {MAX_QUOTES_PER_BATCH} quotes per batch (got {len(quotes)})",
                field="quotes",
            )
        if not quotes:
            return Ingested(accepted=0, sequence=self.store.head_sequence())
        now = self.store.clock()
        rows = []
        for index, raw in enumerate(quotes):
            q = raw.validated(index)
            at = f"quotes[{index}]."
            self.instruments.check_increments(
                q.instrument,
                prices={at + "last": q.last, at + "bid": q.bid, at + "ask": q.ask},
                sizes={},
            )
            quote = Quote(q.instrument, q.last, q.bid, q.ask, q.volume, q.timestamp or now)
            rows.append(quote.to_row())
        batch = Quotes(quotes=rows)
        return Ingested(accepted=len(rows), sequence=self.store.commit(batch))
