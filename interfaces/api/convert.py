"""Read-model rows and aggregates in, GraphQL objects out. Translation only."""

from __future__ import annotations

from dataclasses import fields
from decimal import Decimal
from typing import Any, TypeVar

import strawberry

from domain.fills import Fill
from domain.money import CONTEXT, NO_SPEC_PLACES, round_money
from domain.monitors import Monitor as MonitorAggregate
from domain.orders import Order as OrderAggregate
from domain.positions import Position as PositionAggregate
from domain.reconciliation import Reconciliation as ReconciliationAggregate
from domain.signals import Signal as SignalAggregate
from interfaces.api import types

T = TypeVar("T")
Row = dict[str, Any]


def from_row(cls: type[T], row: Row, **extra: Any) -> T:
    """An object of `cls` from a row holding (at least) its fields, snake_case."""
    values = {**row, **extra}
    return cls(**{f.name: values.get(f.name) for f in fields(cls)})  # type: ignore[arg-type]


def unrealized(
    quantity: Decimal,
    average: Decimal | None,
    market: Decimal | None,
    places: int = NO_SPEC_PLACES,
) -> Decimal | None:
    """(market - average) x quantity, rounded as the broker books money (SPEC 13)."""
    if market is None or average is None or quantity == 0:
        return None
    return round_money(CONTEXT.multiply(CONTEXT.subtract(market, average), quantity), places)


def position(
    row: Row, market_price: Decimal | None = None, places: int = NO_SPEC_PLACES
) -> types.Position:
    market = market_price if market_price is not None else row.get("market_price")
    return from_row(
        types.Position,
        row,
        market_price=market,
        unrealized_pnl=unrealized(row["quantity"], row.get("average_price"), market, places),
    )


def reconciliation(row: Row) -> types.Reconciliation:
    mismatches = [from_row(types.Mismatch, m) for m in row.get("mismatches", [])]
    return from_row(types.Reconciliation, row, mismatches=mismatches)


def order_from(aggregate: OrderAggregate, sequence: int) -> types.Order:
    return types.Order(
        id=strawberry.ID(str(aggregate.id)),
        client_order_id=aggregate.client_order_id,
        account=aggregate.account,
        instrument=aggregate.instrument,
        side=types.Side(aggregate.side),
        type=aggregate.order_type,
        quantity=aggregate.quantity,
        limit_price=aggregate.limit_price,
        status=aggregate.status,
        filled_quantity=aggregate.filled_quantity,
        average_fill_price=aggregate.average_fill_price,
        signal_id=_id(aggregate.signal_id),
        reject_reason=aggregate.reject_reason,
        created_at=aggregate.created_on,
        updated_at=aggregate.modified_on,
        as_of=sequence,
    )


def signal_from(aggregate: SignalAggregate, sequence: int) -> types.Signal:
    return types.Signal(
        id=strawberry.ID(str(aggregate.id)),
        strategy=aggregate.strategy,
        instrument=aggregate.instrument,
        side=types.Side(aggregate.side),
        strength=aggregate.strength,
        quantity=aggregate.quantity,
        status=aggregate.status,
        reason=aggregate.reason,
        order_id=_id(aggregate.order_id),
        created_at=aggregate.created_on,
        updated_at=aggregate.modified_on,
        expires_at=aggregate.expires_at,
        as_of=sequence,
    )


def position_from(
    aggregate: PositionAggregate,
    sequence: int,
    market_price: Decimal | None,
    places: int = NO_SPEC_PLACES,
) -> types.Position:
    return types.Position(
        id=strawberry.ID(str(aggregate.id)),
        account=aggregate.account,
        instrument=aggregate.instrument,
        quantity=aggregate.quantity,
        average_price=aggregate.average_price,
        realized_pnl=aggregate.realized_pnl,
        market_price=market_price,
        unrealized_pnl=unrealized(
            aggregate.quantity, aggregate.average_price, market_price, places
        ),
        status=aggregate.status,
        opened_at=aggregate.opened_at,
        updated_at=aggregate.modified_on,
        as_of=sequence,
    )


def trade_from(fill: Fill, sequence: int) -> types.Trade:
    return types.Trade(
        fill_id=fill.fill_id,
        order_id=strawberry.ID(str(fill.order_id)),
        account=fill.account,
        instrument=fill.instrument,
        side=types.Side(fill.side),
        quantity=fill.quantity,
        price=fill.price,
        commission=fill.commission,
        realized_pnl=fill.realized_pnl,
        timestamp=fill.fill_timestamp,
        sequence=sequence,
        as_of=sequence,
    )


def monitor_from(aggregate: MonitorAggregate, sequence: int) -> types.Monitor:
    return types.Monitor(
        id=strawberry.ID(str(aggregate.id)),
        account=aggregate.account,
        instrument=aggregate.instrument,
        stop_loss=aggregate.stop_loss,
        take_profit=aggregate.take_profit,
        trailing_distance=aggregate.trailing_distance,
        status=aggregate.status,
        trigger_reason=aggregate.trigger_reason,
        trigger_price=aggregate.trigger_price,
        exit_order_id=_id(aggregate.exit_order_id),
        created_at=aggregate.created_on,
        updated_at=aggregate.modified_on,
        as_of=sequence,
    )


def reconciliation_from(aggregate: ReconciliationAggregate, sequence: int) -> types.Reconciliation:
    return types.Reconciliation(
        id=strawberry.ID(str(aggregate.id)),
        policy=aggregate.policy,
        started_at=aggregate.created_on,
        completed_at=aggregate.modified_on if aggregate.completed else None,
        mismatches=[
            types.Mismatch(
                account=m.account,
                instrument=m.instrument,
                local_quantity=m.local_quantity,
                broker_quantity=m.broker_quantity,
                difference=m.difference,
            )
            for m in aggregate.mismatches
        ],
        corrected=aggregate.corrected,
        as_of=sequence,
    )


def _id(value: object) -> strawberry.ID | None:
    return None if value is None else strawberry.ID(str(value))
