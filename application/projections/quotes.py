from __future__ import annotations

from functools import singledispatchmethod

from application.projections.base import Projection, Row, RowStore
from domain.quotes import Quote, Quotes
from domain.quotes import Row as QuoteRow


def _quote_row(row: QuoteRow, sequence: int) -> Row:
    quote = Quote.from_row(row)
    return {
        "instrument": quote.instrument,
        "last": quote.last,
        "bid": quote.bid,
        "ask": quote.ask,
        "volume": quote.volume,
        "timestamp": quote.timestamp,
        "as_of": sequence,
    }


class QuotesProjection(Projection):
    """The latest quote per instrument (latest in log order).

    A rebuild batch holds thousands of quotes per instrument and keeps only the
    last: rows are parsed when written, not when read (`put_deferred`)."""

    name = "quotes"
    tables = ("quotes",)

    @singledispatchmethod
    def apply(self, event: object, sequence: int, store: RowStore) -> None:
        """Other events change no quote."""

    @apply.register
    def ingested(self, e: Quotes.Ingested, sequence: int, store: RowStore) -> None:
        for row in e.quotes:
            store.put_deferred("quotes", row[0], _quote_row, row, sequence)
