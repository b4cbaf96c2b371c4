"""GraphQL input types of the contract, and their translation into command inputs."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from uuid import UUID

import strawberry

from application import inputs as commands
from domain.values import check_uuid
from interfaces.api.types import OrderType, Side


def parse_id(value: object, field: str) -> UUID:
    """An ID argument as a UUID, or BAD_USER_INPUT naming the field."""
    return check_uuid(value, field)


@strawberry.input(description="One quote; timestamp defaults to the time of ingest.")
class QuoteInput:
    instrument: str
    last: Decimal
    bid: Decimal | None = None
    ask: Decimal | None = None
    volume: Decimal | None = None
    timestamp: datetime | None = None

    def to_command(self) -> commands.QuoteInput:
        return commands.QuoteInput(
            instrument=self.instrument,
            last=self.last,
            bid=self.bid,
            ask=self.ask,
            volume=self.volume,
            timestamp=self.timestamp,
        )


@strawberry.input(description="A strategy's signal.")
class SignalInput:
    strategy: str
    instrument: str
    side: Side
    strength: Decimal = strawberry.field(description="Within 0..1.")
    quantity: Decimal | None = None
    reason: str | None = None
    expires_at: datetime | None = strawberry.field(
        default=None, description="PENDING past this, the signal expires."
    )

    def to_command(self) -> commands.SignalInput:
        return commands.SignalInput(
            strategy=self.strategy,
            instrument=self.instrument,
            side=self.side,
            strength=self.strength,
            quantity=self.quantity,
            reason=self.reason,
            expires_at=self.expires_at,
        )


@strawberry.input(
    description="An order. Placing the same clientOrderId and terms again is a no-op."
)
class OrderInput:
    client_order_id: str = strawberry.field(description="The idempotency key (1-64 characters).")
    instrument: str
    side: Side
    quantity: Decimal
    account: str = "default"
    type: OrderType = OrderType.MARKET
    limit_price: Decimal | None = strawberry.field(
        default=None, description="Required for LIMIT, absent for MARKET."
    )
    signal_id: strawberry.ID | None = None

    def to_command(self) -> commands.OrderInput:
        return commands.OrderInput(
            client_order_id=self.client_order_id,
            account=self.account,
            instrument=self.instrument,
            side=self.side,
            quantity=self.quantity,
            type=self.type,
            limit_price=self.limit_price,
            signal_id=None if self.signal_id is None else parse_id(self.signal_id, "signalId"),
        )


@strawberry.input(description="An execution reported by the broker; fillId makes it idempotent.")
class FillInput:
    order_id: strawberry.ID
    fill_id: str
    quantity: Decimal
    price: Decimal
    commission: Decimal | None = None
    timestamp: datetime | None = None

    def to_command(self) -> commands.FillInput:
        return commands.FillInput(
            order_id=parse_id(self.order_id, "orderId"),
            fill_id=self.fill_id,
            quantity=self.quantity,
            price=self.price,
            commission=self.commission,
            timestamp=self.timestamp,
        )


@strawberry.input(description="A monitor for an OPEN position: at least one of the three levels.")
class MonitorInput:
    instrument: str
    account: str = "default"
    stop_loss: Decimal | None = None
    take_profit: Decimal | None = None
    trailing_distance: Decimal | None = None

    def to_command(self) -> commands.MonitorInput:
        return commands.MonitorInput(
            account=self.account,
            instrument=self.instrument,
            stop_loss=self.stop_loss,
            take_profit=self.take_profit,
            trailing_distance=self.trailing_distance,
        )
