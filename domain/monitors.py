"""Monitor: stop-loss, take-profit and trailing stop on an open position."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from domain.errors import Conflict
from domain.money import CONTEXT
from domain.values import MonitorStatus

LONG = "LONG"
SHORT = "SHORT"


@dataclass(frozen=True)
class Trigger:
    reason: str
    price: Decimal


@dataclass(frozen=True)
class Evaluation:
    """What one price means for a monitor: maybe a new water mark, maybe a trigger."""

    water_mark: Decimal | None
    mark_moved: bool
    trigger: Trigger | None


def evaluate(
    direction: str,
    last: Decimal,
    stop_loss: Decimal | None,
    take_profit: Decimal | None,
    trailing_distance: Decimal | None,
    water_mark: Decimal | None,
) -> Evaluation:
    """Pure rule of SPEC section 3; mirrored for shorts (low-water mark)."""
    long = direction == LONG
    mark = water_mark
    moved = False
    if trailing_distance is not None and (mark is None or (last > mark if long else last < mark)):
        mark, moved = last, True
    trigger = None
    if stop_loss is not None and (last <= stop_loss if long else last >= stop_loss):
        trigger = Trigger("STOP_LOSS", last)
    elif take_profit is not None and (last >= take_profit if long else last <= take_profit):
        trigger = Trigger("TAKE_PROFIT", last)
    elif trailing_distance is not None and mark is not None:
        threshold = (
            CONTEXT.subtract(mark, trailing_distance)
            if long
            else CONTEXT.add(mark, trailing_distance)
        )
        if last <= threshold if long else last >= threshold:
            trigger = Trigger("TRAILING_STOP", last)
    return Evaluation(water_mark=mark, mark_moved=moved, trigger=trigger)


class Monitor(Aggregate):
    class Armed(Aggregate.Created):
        account: str
        instrument: str
        position_id: UUID
        direction: str
        stop_loss: Decimal | None
        take_profit: Decimal | None
        trailing_distance: Decimal | None
        water_mark: Decimal | None

    @event(Armed)
    def __init__(
        self,
        account: str,
        instrument: str,
        position_id: UUID,
        direction: str,
        stop_loss: Decimal | None,
        take_profit: Decimal | None,
        trailing_distance: Decimal | None,
        water_mark: Decimal | None,
    ) -> None:
        self.account = account
        self.instrument = instrument
        self.position_id = position_id
        self.direction = direction
        self.stop_loss = stop_loss
        self.take_profit = take_profit
        self.trailing_distance = trailing_distance
        self.water_mark = water_mark
        self.status = MonitorStatus.ACTIVE
        self.trigger_reason: str | None = None
        self.trigger_price: Decimal | None = None
        self.exit_order_id: UUID | None = None

    def evaluate(self, last: Decimal) -> Evaluation:
        return evaluate(
            self.direction,
            last,
            self.stop_loss,
            self.take_profit,
            self.trailing_distance,
            self.water_mark,
        )

    def check_active(self, action: str) -> None:
        if self.status is not MonitorStatus.ACTIVE:
            raise Conflict(f"monitor {self.id} is {self.status.value}; it cannot be {action}")

    class WaterMarkMoved(Aggregate.Event):
        price: Decimal

    @event(WaterMarkMoved)
    def move_water_mark(self, price: Decimal) -> None:
        self.water_mark = price

    def trigger(self, *, reason: str, price: Decimal, exit_order_id: UUID) -> None:
        self.check_active("triggered")
        self._triggered(reason=reason, price=price, exit_order_id=exit_order_id)

    class Triggered(Aggregate.Event):
        reason: str
        price: Decimal
        exit_order_id: UUID

    @event(Triggered)
    def _triggered(self, reason: str, price: Decimal, exit_order_id: UUID) -> None:
        self.status = MonitorStatus.TRIGGERED
        self.trigger_reason = reason
        self.trigger_price = price
        self.exit_order_id = exit_order_id

    def disarm(self, reason: str) -> None:
        self.check_active("disarmed")
        self._disarmed(reason=reason)

    class Disarmed(Aggregate.Event):
        reason: str

    @event(Disarmed)
    def _disarmed(self, reason: str) -> None:
        self.status = MonitorStatus.DISARMED
        self.trigger_reason = reason
