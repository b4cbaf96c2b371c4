"""Quotes are ingested in batches: each batch is a new one-event aggregate.

Nothing ever reloads a growing quote stream, so the millionth quote costs
what the first did.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from eventsourcing.domain import Aggregate, event

Row = list[str | None]


@dataclass(frozen=True)
class Quote:
    instrument: str
    last: Decimal
    bid: Decimal | None
    ask: Decimal | None
    volume: Decimal | None
    timestamp: datetime

    def to_row(self) -> Row:
        """A compact row (instrument, last, bid, ask, volume, ISO timestamp)."""
        return [
            self.instrument,
            str(self.last),
            _text(self.bid),
            _text(self.ask),
            _text(self.volume),
            self.timestamp.isoformat(),
        ]

    @classmethod
    def from_row(cls, row: Row) -> Quote:
        instrument, last, bid, ask, volume, timestamp = row
        assert instrument is not None and last is not None and timestamp is not None
        return cls(
            instrument=instrument,
            last=Decimal(last),
            bid=_number(bid),
            ask=_number(ask),
            volume=_number(volume),
            timestamp=datetime.fromisoformat(timestamp),
        )


def _text(value: Decimal | None) -> str | None:
    return None if value is None else str(value)


def _number(value: str | None) -> Decimal | None:
    return None if value is None else Decimal(value)


class Quotes(Aggregate):
    """One ingested batch. Rows rather than objects keep a 10 000-quote event small."""

    class Ingested(Aggregate.Created):
        quotes: list[Row]

    @event(Ingested)
    def __init__(self, quotes: list[Row]) -> None:
        self.quotes = quotes

    def parsed(self) -> list[Quote]:
        return [Quote.from_row(row) for row in self.quotes]
