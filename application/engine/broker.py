"""The broker-adapter port: what the engine needs from any broker.

An adapter accepts orders (`submit`, idempotent by order id), cancels them,
streams its executions (`fills`) and reports its book (`positions`, which is
also what reconciliation compares with ours). Every fill carries a fillId the
broker derives deterministically, so recording it twice (after a restart) is
a no-op in the store.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Protocol
from uuid import UUID

from application.inputs import FillInput
from application.ports import PositionKey
from domain.values import OrderType, Side


@dataclass(frozen=True)
class BrokerOrder:
    order_id: UUID
    client_order_id: str
    account: str
    instrument: str
    side: Side
    order_type: OrderType
    quantity: Decimal
    limit_price: Decimal | None = None


@dataclass(frozen=True)
class BrokerFill:
    fill_id: str
    order_id: UUID
    account: str
    instrument: str
    side: Side
    quantity: Decimal
    price: Decimal
    commission: Decimal
    timestamp: datetime

    @property
    def signed_quantity(self) -> Decimal:
        return self.quantity if self.side is Side.BUY else -self.quantity

    def as_input(self) -> FillInput:
        """The `record_fill` command input for this execution."""
        return FillInput(
            order_id=self.order_id,
            fill_id=self.fill_id,
            quantity=self.quantity,
            price=self.price,
            commission=self.commission,
            timestamp=self.timestamp,
        )


class BrokerAdapter(Protocol):
    def submit(self, order: BrokerOrder) -> None:
        """Hand an order to the broker; submitting the same order id again is a no-op."""
        ...

    def cancel(self, order_id: UUID) -> None:
        """Withdraw an open order; unknown or closed orders are ignored."""
        ...

    def fills(self) -> AsyncIterator[BrokerFill]:
        """The broker's executions, as they happen."""
        ...

    def positions(self) -> dict[PositionKey, Decimal]:
        """The broker's net quantity per (account, instrument)."""
        ...
