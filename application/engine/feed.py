"""The market-data port: a feed yields batches of quotes until it ends or is stopped."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Protocol

from application.inputs import QuoteInput


class QuoteFeed(Protocol):
    name: str

    def batches(self) -> AsyncIterator[list[QuoteInput]]:
        """Batches (at most 10 000 quotes, each with a timestamp), paced by the feed."""
        ...
