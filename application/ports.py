"""Ports the application needs from the outside; infrastructure implements them."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal
from typing import Protocol
from uuid import UUID

PositionKey = tuple[str, str]  # (account, instrument)
Clock = Callable[[], datetime]


def utc_now() -> datetime:
    return datetime.now(UTC)


class BrokerPositions(Protocol):
    """What reconciliation asks of a broker: its net quantity per (account, instrument)."""

    def positions(self) -> dict[PositionKey, Decimal]: ...


class PositionDirectory(Protocol):
    """Which positions exist locally (a read model, or the log)."""

    def keys(self) -> list[PositionKey]: ...


class MarketPrices(Protocol):
    """The latest known price of an instrument, if any."""

    def last_price(self, instrument: str) -> Decimal | None: ...


class NotificationLookup(Protocol):
    """The recorder's indexed look-up of an aggregate's first event's sequence."""

    def first_sequence(self, originator_id: UUID) -> int | None: ...


class BrokerPresence(Protocol):
    """Whether some process (this one or another on the same store) runs a broker
    and takes reconciliation requests."""

    def available(self) -> bool: ...
