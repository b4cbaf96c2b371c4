from __future__ import annotations

from application.projections.base import Projection, RowStore
from domain.quotes import Quote, Quotes


class QuotesProjection(Projection):
    """The latest quote per instrument (latest in log order)."""

    name = "quotes"
    tables = ("quotes",)
    handlers = {Quotes.Ingested: "ingested"}

    def ingested(self, e: Quotes.Ingested, sequence: int, store: RowStore) -> None:
        latest = {row[0]: row for row in e.quotes}
        for instrument, row in latest.items():
            quote = Quote.from_row(row)
            store.put(
                "quotes",
                instrument,
                {
                    "instrument": instrument,
                    "last": quote.last,
                    "bid": quote.bid,
                    "ask": quote.ask,
                    "volume": quote.volume,
                    "timestamp": quote.timestamp,
                    "as_of": sequence,
                },
            )
