"""Signal: a strategy's proposal, accepted into an order or rejected, expired, cancelled."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from domain.errors import Conflict
from domain.values import SignalStatus


class Signal(Aggregate):
    class Generated(Aggregate.Created):
        """Version history: v1 had `confidence` 0-100; v2 `strength` 0-1; v3 `expires_at`."""

        class_version = 3
        strategy: str
        instrument: str
        side: str
        strength: Decimal
        quantity: Decimal | None
        reason: str | None
        expires_at: datetime | None

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            confidence = Decimal(str(state.pop("confidence")))
            state["strength"] = confidence / Decimal(100)

        @staticmethod
        def upcast_v2_v3(state: dict[str, Any]) -> None:
            state["expires_at"] = None

    @event(Generated)
    def __init__(
        self,
        strategy: str,
        instrument: str,
        side: str,
        strength: Decimal,
        quantity: Decimal | None,
        reason: str | None,
        expires_at: datetime | None,
    ) -> None:
        self.strategy = strategy
        self.instrument = instrument
        self.side = side
        self.strength = strength
        self.quantity = quantity
        self.reason = reason
        self.expires_at = expires_at
        self.status = SignalStatus.PENDING
        self.order_id: UUID | None = None

    def is_expired(self, now: datetime) -> bool:
        return self.expires_at is not None and now >= self.expires_at

    def check_pending(self, action: str, now: datetime) -> None:
        if self.status is not SignalStatus.PENDING:
            raise Conflict(f"signal {self.id} is {self.status.value}; it cannot be {action}")
        if self.is_expired(now):
            raise Conflict(f"signal {self.id} expired at {self.expires_at:%Y-%m-%dT%H:%M:%S%z}")

    def accept(self, *, order_id: UUID, quantity: Decimal, now: datetime) -> None:
        self.check_pending("accepted", now)
        self._accepted(order_id=order_id, quantity=quantity)

    class Accepted(Aggregate.Event):
        order_id: UUID
        quantity: Decimal

    @event(Accepted)
    def _accepted(self, order_id: UUID, quantity: Decimal) -> None:
        self.status = SignalStatus.ACCEPTED
        self.order_id = order_id
        self.quantity = quantity

    def reject(self, *, reason: str, now: datetime) -> None:
        self.check_pending("rejected", now)
        self._rejected(reason=reason)

    class Rejected(Aggregate.Event):
        reason: str

    @event(Rejected)
    def _rejected(self, reason: str) -> None:
        self.status = SignalStatus.REJECTED
        self.reason = reason

    def cancel(self, *, reason: str | None, now: datetime) -> None:
        self.check_pending("cancelled", now)
        self._cancelled(reason=reason)

    class Cancelled(Aggregate.Event):
        reason: str | None

    @event(Cancelled)
    def _cancelled(self, reason: str | None) -> None:
        self.status = SignalStatus.CANCELLED
        if reason:
            self.reason = reason

    def expire(self, now: datetime) -> None:
        if self.status is not SignalStatus.PENDING or not self.is_expired(now):
            raise Conflict(f"signal {self.id} is not a PENDING signal past its expiry")
        self._expired()

    class Expired(Aggregate.Event):
        pass

    @event(Expired)
    def _expired(self) -> None:
        self.status = SignalStatus.EXPIRED

    def execute(self) -> None:
        """Mark the signal EXECUTED: its order filled completely."""
        if self.status is SignalStatus.ACCEPTED:
            self._executed()

    class Executed(Aggregate.Event):
        pass

    @event(Executed)
    def _executed(self) -> None:
        self.status = SignalStatus.EXECUTED
