"""Position: netting, average cost, realized P&L with commission (SPEC section 3)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from domain.fills import FillTerms
from domain.ids import position_id
from domain.money import CONTEXT, NO_SPEC_PLACES, ZERO, average_price, round_money, sign, tidy
from domain.values import PositionStatus, Side


@dataclass(frozen=True)
class Netting:
    """The result of applying one fill to a position's (quantity, average, realized)."""

    quantity: Decimal
    average_price: Decimal | None
    realized_pnl: Decimal
    realized_delta: Decimal


def net_fill(
    quantity: Decimal,
    average: Decimal | None,
    realized: Decimal,
    side: Side,
    fill_quantity: Decimal,
    price: Decimal,
    commission: Decimal,
    *,
    multiplier: Decimal = Decimal(1),
    places: int = NO_SPEC_PLACES,
) -> Netting:
    """Apply a fill: increase moves the average; reduce realizes; crossing zero reopens.

    What a fill realizes (times the instrument's multiplier) and its commission are
    rounded to the currency's `places` as a broker books them; the realized total is
    their exact sum. The average price is not money and is not rounded so."""
    # Every step in CONTEXT: the default context's 28 digits would round 36-digit sizes.
    signed = fill_quantity if side is Side.BUY else CONTEXT.minus(fill_quantity)
    new_quantity = tidy(CONTEXT.add(quantity, signed))
    if quantity == 0 or sign(quantity) == sign(signed):
        held = CONTEXT.abs(quantity)
        notional = CONTEXT.add(
            CONTEXT.multiply(held, average or ZERO), CONTEXT.multiply(fill_quantity, price)
        )
        new_average: Decimal | None = average_price(notional, CONTEXT.abs(new_quantity))
        gross = ZERO
    else:
        # A quantity set by reconciliation with no price known has no cost basis:
        # reducing it realizes nothing rather than inventing a basis.
        basis = price if average is None else average
        closed = min(CONTEXT.abs(quantity), fill_quantity)
        gross = CONTEXT.multiply(
            CONTEXT.multiply(CONTEXT.subtract(price, basis), closed), sign(quantity)
        )
        gross = round_money(CONTEXT.multiply(gross, multiplier), places)
        if new_quantity == 0:
            new_average = None
        elif sign(new_quantity) == sign(quantity):
            new_average = average
        else:
            new_average = price
    delta = tidy(CONTEXT.subtract(gross, round_money(commission, places)))
    return Netting(
        quantity=new_quantity,
        average_price=new_average,
        realized_pnl=tidy(CONTEXT.add(realized, delta)),
        realized_delta=delta,
    )


class Position(Aggregate):
    """A netting position per (account, instrument); its id is derived from the pair."""

    class Opened(Aggregate.Created):
        account: str
        instrument: str

    @event(Opened)
    def __init__(self, account: str, instrument: str) -> None:
        self.account = account
        self.instrument = instrument
        self.quantity = ZERO
        self.average_price: Decimal | None = None
        self.realized_pnl = ZERO
        self.opened_at: datetime | None = None
        self.monitor_ids: list[UUID] = []

    @staticmethod
    def create_id(account: str, instrument: str) -> UUID:
        return position_id(account, instrument)

    @property
    def status(self) -> PositionStatus:
        return PositionStatus.CLOSED if self.quantity == 0 else PositionStatus.OPEN

    def apply_fill(
        self,
        terms: FillTerms,
        *,
        multiplier: Decimal = Decimal(1),
        places: int = NO_SPEC_PLACES,
    ) -> Netting:
        """Net a fill into the position; returns the netting it recorded (the
        commission as booked: rounded to the currency's places)."""
        result = net_fill(
            self.quantity,
            self.average_price,
            self.realized_pnl,
            terms.side,
            terms.quantity,
            terms.price,
            terms.commission,
            multiplier=multiplier,
            places=places,
        )
        self._fill_applied(
            fill_id=terms.fill_id,
            order_id=terms.order_id,
            side=terms.side.value,
            quantity=terms.quantity,
            price=terms.price,
            commission=round_money(terms.commission, places),
            fill_timestamp=terms.timestamp,
            quantity_after=result.quantity,
            average_price_after=result.average_price,
            realized_pnl_after=result.realized_pnl,
            realized_delta=result.realized_delta,
        )
        return result

    class FillApplied(Aggregate.Event):
        fill_id: str
        order_id: UUID
        side: str
        quantity: Decimal
        price: Decimal
        commission: Decimal
        fill_timestamp: datetime
        quantity_after: Decimal
        average_price_after: Decimal | None
        realized_pnl_after: Decimal
        realized_delta: Decimal

    @event(FillApplied)
    def _fill_applied(
        self,
        fill_id: str,
        order_id: UUID,
        side: str,
        quantity: Decimal,
        price: Decimal,
        commission: Decimal,
        fill_timestamp: datetime,
        quantity_after: Decimal,
        average_price_after: Decimal | None,
        realized_pnl_after: Decimal,
        realized_delta: Decimal,
    ) -> None:
        self._move_to(quantity_after, average_price_after, fill_timestamp)
        self.realized_pnl = realized_pnl_after

    def adjust(self, *, quantity: Decimal, reason: str, market_price: Decimal | None) -> None:
        """Bring the quantity to a figure found elsewhere (reconciliation)."""
        if quantity == 0:
            average = None
        elif self.quantity != 0 and sign(quantity) == sign(self.quantity):
            average = self.average_price
        else:
            average = market_price
        self._adjusted(
            quantity_before=self.quantity,
            quantity_after=quantity,
            average_price_after=average,
            reason=reason,
        )

    class Adjusted(Aggregate.Event):
        quantity_before: Decimal
        quantity_after: Decimal
        average_price_after: Decimal | None
        reason: str

    @event(Adjusted)
    def _adjusted(
        self,
        quantity_before: Decimal,
        quantity_after: Decimal,
        average_price_after: Decimal | None,
        reason: str,
    ) -> None:
        self._move_to(quantity_after, average_price_after, self.modified_on)

    def _move_to(self, quantity: Decimal, average: Decimal | None, when: datetime) -> None:
        was_flat = self.quantity == 0
        self.quantity = quantity
        self.average_price = average
        if quantity == 0:
            self.opened_at = None
        elif was_flat:
            self.opened_at = when

    def closes_or_flips(self, before: Decimal) -> bool:
        """Whether the last change left the side `before` was on (flat or crossed zero)."""
        return before != 0 and sign(self.quantity) != sign(before)

    class MonitorAttached(Aggregate.Event):
        monitor_id: UUID

    @event(MonitorAttached)
    def attach_monitor(self, monitor_id: UUID) -> None:
        self.monitor_ids.append(monitor_id)

    class MonitorDetached(Aggregate.Event):
        monitor_id: UUID

    @event(MonitorDetached)
    def detach_monitor(self, monitor_id: UUID) -> None:
        self.monitor_ids.remove(monitor_id)
