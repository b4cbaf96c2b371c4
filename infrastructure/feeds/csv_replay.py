"""Replaying market data from a CSV file (`--feed csv:PATH`).

Two layouts, told apart by the header:
- quotes: `instrument,last,bid,ask,volume,timestamp` (bid, ask, volume may be empty);
- OHLC bars: `instrument,timestamp,open,high,low,close,volume` — each bar is
  replayed as four quotes (open, low, high, close for an up bar; open, high,
  low, close for a down bar), so stops inside the bar's range are reached.

Rows sharing a timestamp form one batch. Between batches the replay sleeps the
timestamps' difference divided by `speed` (0 replays as fast as it can).
Timestamps without a zone are read as UTC.
"""

from __future__ import annotations

import asyncio
import csv
from collections.abc import AsyncIterator, Iterable, Iterator
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path

from application.inputs import MAX_QUOTES_PER_BATCH, QuoteInput

QUOTE_COLUMNS = ("instrument", "last", "bid", "ask", "volume", "timestamp")
BAR_COLUMNS = ("instrument", "timestamp", "open", "high", "low", "close", "volume")


class CsvFormatError(ValueError):
    pass


def _decimal(text: str | None, where: str) -> Decimal | None:
    if text is None or text.strip() == "":
        return None
    try:
        return Decimal(text.strip())
    except InvalidOperation:
        raise CsvFormatError(f"{where}: not a decimal number: {text!r}") from None


def _required(text: str | None, where: str) -> Decimal:
    value = _decimal(text, where)
    if value is None:
        raise CsvFormatError(f"{where}: a value is required")
    return value


def _timestamp(text: str | None, where: str) -> datetime:
    try:
        value = datetime.fromisoformat((text or "").strip())
    except ValueError:
        raise CsvFormatError(f"{where}: not an ISO timestamp: {text!r}") from None
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


def read_quotes(path: Path) -> Iterator[QuoteInput]:
    """Every quote in the file, in file order."""
    with path.open(newline="") as handle:
        reader = csv.DictReader(handle)
        columns = tuple(name.strip() for name in reader.fieldnames or ())
        if set(BAR_COLUMNS) <= set(columns):
            rows: Iterable[QuoteInput] = _bars(reader, path)
        elif {"instrument", "last", "timestamp"} <= set(columns):
            rows = _quotes(reader, path)
        else:
            raise CsvFormatError(
                f"{path}: header must be {','.join(QUOTE_COLUMNS)} or {','.join(BAR_COLUMNS)}"
            )
        yield from rows


def _quotes(reader: csv.DictReader[str], path: Path) -> Iterator[QuoteInput]:
    for number, row in enumerate(reader, start=2):
        where = f"{path}:{number}"
        yield QuoteInput(
            instrument=(row.get("instrument") or "").strip(),
            last=_required(row.get("last"), where),
            bid=_decimal(row.get("bid"), where),
            ask=_decimal(row.get("ask"), where),
            volume=_decimal(row.get("volume"), where),
            timestamp=_timestamp(row.get("timestamp"), where),
        )


def _bars(reader: csv.DictReader[str], path: Path) -> Iterator[QuoteInput]:
    for number, row in enumerate(reader, start=2):
        where = f"{path}:{number}"
        instrument = (row.get("instrument") or "").strip()
        at = _timestamp(row.get("timestamp"), where)
        open_, high, low, close = (
            _required(row.get(name), where) for name in ("open", "high", "low", "close")
        )
        volume = _decimal(row.get("volume"), where)
        path_prices = (open_, low, high, close) if close >= open_ else (open_, high, low, close)
        for index, price in enumerate(path_prices):
            yield QuoteInput(
                instrument=instrument,
                last=price,
                volume=volume if index == 3 else None,
                timestamp=at,
            )


def batches_of(quotes: Iterable[QuoteInput]) -> Iterator[list[QuoteInput]]:
    """Consecutive quotes with the same timestamp, at most 10 000 per batch."""
    batch: list[QuoteInput] = []
    for quote in quotes:
        if batch and (quote.timestamp != batch[0].timestamp or len(batch) >= MAX_QUOTES_PER_BATCH):
            yield batch
            batch = []
        batch.append(quote)
    if batch:
        yield batch


class CsvReplayFeed:
    """A `QuoteFeed` replaying a CSV file once, paced by its timestamps."""

    name = "csv"

    def __init__(self, path: Path, speed: float = 1.0) -> None:
        if not path.is_file():
            raise FileNotFoundError(f"CSV feed {path} does not exist")
        self.path = path
        self.speed = speed

    async def batches(self) -> AsyncIterator[list[QuoteInput]]:
        previous: datetime | None = None
        for batch in batches_of(read_quotes(self.path)):
            at = batch[0].timestamp
            assert at is not None
            if previous is not None and self.speed > 0:
                await asyncio.sleep(max(0.0, (at - previous).total_seconds() / self.speed))
            elif self.speed <= 0:
                await asyncio.sleep(0)
            previous = at
            yield batch
