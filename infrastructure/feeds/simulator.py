"""A seeded random-walk market: one quote per instrument per tick, in Decimal.

The walk is reproducible: the same seed and instruments give the same prices
(the timestamps are the wall clock's). Each step moves the last price by a
normally distributed fraction (`volatility`), rounded to the instrument's tick;
bid and ask sit half the relative `spread` either side.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import AsyncIterator, Callable, Iterator, Sequence
from datetime import UTC, datetime, timedelta
from decimal import ROUND_HALF_EVEN, Decimal

from application.inputs import QuoteInput

TICK = Decimal("0.01")
Clock = Callable[[], datetime]


def _now() -> datetime:
    return datetime.now(UTC)


class RandomWalk:
    """The pure price process, step by step."""

    def __init__(
        self,
        instruments: Sequence[str],
        seed: int,
        volatility: Decimal = Decimal("0.002"),
        spread: Decimal = Decimal("0.0004"),
    ) -> None:
        self.instruments = tuple(instruments)
        self.volatility = volatility
        self.spread = spread
        self._random = random.Random(seed)
        self.prices = {name: Decimal(self._random.randint(20, 500)) for name in self.instruments}

    def step(self, at: datetime) -> list[QuoteInput]:
        return [self._quote(name, at) for name in self.instruments]

    def _quote(self, instrument: str, at: datetime) -> QuoteInput:
        draw = Decimal(repr(round(self._random.gauss(0.0, 1.0), 6)))
        previous = self.prices[instrument]
        last = (previous * (1 + draw * self.volatility)).quantize(TICK, ROUND_HALF_EVEN)
        last = max(last, TICK)
        self.prices[instrument] = last
        half = max(TICK, (last * self.spread / 2).quantize(TICK, ROUND_HALF_EVEN))
        return QuoteInput(
            instrument=instrument,
            last=last,
            bid=max(last - half, TICK),
            ask=last + half,
            volume=Decimal(self._random.randint(1, 1000)),
            timestamp=at,
        )

    def ticks(self, start: datetime, interval_seconds: float) -> Iterator[list[QuoteInput]]:
        """An endless series of batches, timestamped `interval_seconds` apart from `start`."""
        step = timedelta(seconds=interval_seconds)
        at = start
        while True:
            yield self.step(at)
            at += step


class SimulatedFeed:
    """A `QuoteFeed`: a random-walk batch every `interval` seconds, forever."""

    name = "sim"

    def __init__(self, walk: RandomWalk, interval_seconds: float, clock: Clock = _now) -> None:
        self.walk = walk
        self.interval_seconds = interval_seconds
        self.clock = clock

    async def batches(self) -> AsyncIterator[list[QuoteInput]]:
        while True:
            yield self.walk.step(self.clock())
            await asyncio.sleep(self.interval_seconds)


def sample_rows(
    instruments: Sequence[str] = ("AAPL", "MSFT", "BTC-USD"),
    seed: int = 7,
    ticks: int = 67,
    start: datetime = datetime(2026, 1, 5, 14, 30, tzinfo=UTC),
) -> list[list[str]]:
    """The rows of the bundled `sample_quotes.csv` (header first)."""
    walk = RandomWalk(instruments, seed)
    rows = [["instrument", "last", "bid", "ask", "volume", "timestamp"]]
    for _, batch in zip(range(ticks), walk.ticks(start, 1.0), strict=False):
        for q in batch:
            assert q.timestamp is not None
            rows.append(
                [
                    q.instrument,
                    str(q.last),
                    str(q.bid),
                    str(q.ask),
                    str(q.volume),
                    q.timestamp.isoformat(),
                ]
            )
    return rows
