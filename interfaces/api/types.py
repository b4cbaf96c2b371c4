"""GraphQL object types of the contract. Plain data: resolvers live elsewhere.

Field names are snake_case here and camelCase in the schema (strawberry's
default). Converters from read-model rows and aggregates are in convert.py.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

import strawberry
from strawberry.scalars import JSON

from domain import values

# The domain's enums, registered as GraphQL enums in place (strawberry.enum returns the
# class it is given), so the names below are plain aliases that type checkers accept.
Side = values.Side
OrderType = values.OrderType
SignalStatus = values.SignalStatus
OrderStatus = values.OrderStatus
PositionStatus = values.PositionStatus
MonitorStatus = values.MonitorStatus
ReconciliationPolicy = values.ReconciliationPolicy
strawberry.enum(Side, description="Buy or sell.")
strawberry.enum(OrderType, description="MARKET or LIMIT.")
strawberry.enum(SignalStatus, description="Where a signal is in its life.")
strawberry.enum(OrderStatus, description="Where an order is in its life.")
strawberry.enum(PositionStatus, description="OPEN (non-zero) or CLOSED.")
strawberry.enum(MonitorStatus, description="Where a monitor is.")
strawberry.enum(
    ReconciliationPolicy,
    description="ALERT only records mismatches; AUTO_CORRECT also adjusts positions.",
)

AS_OF = "The sequence of the last event this row reflects."


@strawberry.type(description="The latest quote of an instrument.")
class Quote:
    instrument: str
    last: Decimal = strawberry.field(description="Last traded price.")
    bid: Decimal | None
    ask: Decimal | None
    volume: Decimal | None
    timestamp: datetime = strawberry.field(description="When the market quoted it.")
    as_of: int = strawberry.field(description=AS_OF)


@strawberry.type(description="A strategy's proposal to trade; accepting it places an order.")
class Signal:
    id: strawberry.ID
    strategy: str
    instrument: str
    side: Side
    strength: Decimal = strawberry.field(description="Conviction, within 0..1.")
    quantity: Decimal | None
    status: SignalStatus
    reason: str | None
    order_id: strawberry.ID | None = strawberry.field(
        description="The order placed when the signal was accepted."
    )
    created_at: datetime
    updated_at: datetime
    expires_at: datetime | None
    as_of: int = strawberry.field(description=AS_OF)


@strawberry.type(description="An order; its clientOrderId is the idempotency key.")
class Order:
    id: strawberry.ID
    client_order_id: str
    account: str
    instrument: str
    side: Side
    type: OrderType
    quantity: Decimal
    limit_price: Decimal | None
    status: OrderStatus
    filled_quantity: Decimal
    average_fill_price: Decimal | None
    signal_id: strawberry.ID | None
    reject_reason: str | None
    created_at: datetime
    updated_at: datetime
    as_of: int = strawberry.field(description=AS_OF)


@strawberry.type(description="One fill, as recorded in the trade log.")
class Trade:
    fill_id: str
    order_id: strawberry.ID
    account: str
    instrument: str
    side: Side
    quantity: Decimal
    price: Decimal
    commission: Decimal
    realized_pnl: Decimal = strawberry.field(
        description="P&L this fill realized, net of its commission."
    )
    timestamp: datetime
    sequence: int = strawberry.field(description="The sequence of the fill's event.")
    as_of: int = strawberry.field(description=AS_OF + " A trade never changes: its sequence.")


@strawberry.type(description="A netting position per (account, instrument).")
class Position:
    id: strawberry.ID
    account: str
    instrument: str
    quantity: Decimal = strawberry.field(description="Signed: > 0 long, < 0 short.")
    average_price: Decimal | None = strawberry.field(description="Null when flat.")
    realized_pnl: Decimal
    market_price: Decimal | None = strawberry.field(
        description="The last price of the instrument's latest quote."
    )
    unrealized_pnl: Decimal | None = strawberry.field(
        description="(marketPrice - averagePrice) x quantity; null without a quote or when flat."
    )
    status: PositionStatus
    opened_at: datetime | None
    updated_at: datetime
    as_of: int = strawberry.field(description=AS_OF)


@strawberry.type(description="A stop-loss / take-profit / trailing stop on an open position.")
class Monitor:
    id: strawberry.ID
    account: str
    instrument: str
    stop_loss: Decimal | None
    take_profit: Decimal | None
    trailing_distance: Decimal | None
    status: MonitorStatus
    trigger_reason: str | None
    trigger_price: Decimal | None
    exit_order_id: strawberry.ID | None
    created_at: datetime
    updated_at: datetime
    as_of: int = strawberry.field(description=AS_OF)


@strawberry.type(description="A difference between the broker's book and ours.")
class Mismatch:
    account: str
    instrument: str
    local_quantity: Decimal
    broker_quantity: Decimal
    difference: Decimal = strawberry.field(description="brokerQuantity - localQuantity.")


@strawberry.type(description="One reconciliation run against the broker.")
class Reconciliation:
    id: strawberry.ID
    policy: ReconciliationPolicy
    started_at: datetime
    completed_at: datetime | None
    mismatches: list[Mismatch]
    corrected: bool = strawberry.field(description="Whether AUTO_CORRECT adjusted positions.")
    as_of: int = strawberry.field(description=AS_OF)


@strawberry.type(description="One stored event of the global log.")
class Event:
    sequence: int = strawberry.field(description="Its position in the global log.")
    aggregate_id: strawberry.ID
    aggregate_version: int
    type: str = strawberry.field(description='The event type, e.g. "OrderFilled".')
    timestamp: datetime
    data: JSON = strawberry.field(description="The event's attributes (decimals as strings).")


@strawberry.type(description="A page of the event log.")
class EventPage:
    events: list[Event]
    head_sequence: int = strawberry.field(description="The last sequence in the log.")


@strawberry.type(description="How far a projection has read the log.")
class ProjectionStatus:
    name: str
    sequence: int
    lag: int = strawberry.field(description="headSequence minus sequence.")
    stale: bool = strawberry.field(description="Lagging for longer than the threshold.")
    error: str | None = strawberry.field(description="Why it stopped, if it did.")


@strawberry.type(description="The state of this server and its store.")
class SystemStatus:
    version: str
    database: str = strawberry.field(description="The store, password hidden.")
    head_sequence: int
    projections: list[ProjectionStatus]


@strawberry.type
class IngestPayload:
    accepted: int = strawberry.field(description="Quotes accepted.")
    sequence: int = strawberry.field(description="The sequence of the batch's event.")


SEQUENCE = "The sequence of the last event appended (pass as minSequence to read it)."


@strawberry.type
class SignalPayload:
    signal: Signal
    sequence: int = strawberry.field(description=SEQUENCE)


@strawberry.type
class OrderPayload:
    order: Order
    sequence: int = strawberry.field(description=SEQUENCE)


@strawberry.type
class FillPayload:
    order: Order
    trade: Trade
    position: Position
    sequence: int = strawberry.field(description=SEQUENCE)


@strawberry.type
class MonitorPayload:
    monitor: Monitor
    sequence: int = strawberry.field(description=SEQUENCE)


@strawberry.type
class ReconciliationPayload:
    reconciliation: Reconciliation
    sequence: int = strawberry.field(description=SEQUENCE)
