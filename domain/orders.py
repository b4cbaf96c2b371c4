"""Order: placed once per clientOrderId, filled by fills, cancelled or rejected."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from domain.errors import BadInput, Conflict, echoed
from domain.fills import FillTerms
from domain.ids import order_id
from domain.money import CONTEXT, ZERO, average_price, tidy
from domain.values import OrderStatus, OrderType, Side


class Order(Aggregate):
    """An order; its id is derived from its clientOrderId (the idempotency key)."""

    class Placed(Aggregate.Created):
        client_order_id: str
        account: str
        instrument: str
        side: str
        order_type: str
        quantity: Decimal
        limit_price: Decimal | None
        signal_id: UUID | None

    @event(Placed)
    def __init__(
        self,
        client_order_id: str,
        account: str,
        instrument: str,
        side: str,
        order_type: str,
        quantity: Decimal,
        limit_price: Decimal | None,
        signal_id: UUID | None,
    ) -> None:
        self.client_order_id = client_order_id
        self.account = account
        self.instrument = instrument
        self.side = Side(side)
        self.order_type = OrderType(order_type)
        self.quantity = quantity
        self.limit_price = limit_price
        self.signal_id = signal_id
        self.status = OrderStatus.SUBMITTED
        self.filled_quantity = ZERO
        self.filled_notional = ZERO
        self.reject_reason: str | None = None

    @staticmethod
    def create_id(client_order_id: str, **_: object) -> UUID:
        return order_id(client_order_id)

    @property
    def remaining(self) -> Decimal:
        return CONTEXT.subtract(self.quantity, self.filled_quantity)

    @property
    def average_fill_price(self) -> Decimal | None:
        if self.filled_quantity == 0:
            return None
        return average_price(self.filled_notional, self.filled_quantity)

    def terms(self) -> tuple[object, ...]:
        return (
            self.account,
            self.instrument,
            self.side,
            self.order_type,
            self.quantity,
            self.limit_price,
            self.signal_id,
        )

    def check_same_terms(self, terms: tuple[object, ...]) -> None:
        if terms != self.terms():
            raise Conflict(
                f"clientOrderId {echoed(self.client_order_id)} was already used for an order "
                "with different terms",
                field="clientOrderId",
            )

    def check_can_fill(self, quantity: Decimal) -> None:
        if not self.status.is_open:
            raise Conflict(f"order {self.id} is {self.status.value}; it takes no more fills")
        if quantity > self.remaining:
            raise BadInput(
                f"fill quantity {quantity} exceeds the remaining {self.remaining}",
                field="quantity",
            )

    def fill(self, terms: FillTerms) -> None:
        self.check_can_fill(terms.quantity)
        filled = tidy(CONTEXT.add(self.filled_quantity, terms.quantity))
        notional = CONTEXT.add(self.filled_notional, CONTEXT.multiply(terms.quantity, terms.price))
        status = OrderStatus.FILLED if filled == self.quantity else OrderStatus.PARTIALLY_FILLED
        self._filled(
            fill_id=terms.fill_id,
            quantity=terms.quantity,
            price=terms.price,
            fill_timestamp=terms.timestamp,
            status=status.value,
            filled_quantity_after=filled,
            average_fill_price_after=average_price(notional, filled),
        )

    class Filled(Aggregate.Event):
        fill_id: str
        quantity: Decimal
        price: Decimal
        fill_timestamp: datetime
        status: str
        filled_quantity_after: Decimal
        average_fill_price_after: Decimal

    @event(Filled)
    def _filled(
        self,
        fill_id: str,
        quantity: Decimal,
        price: Decimal,
        fill_timestamp: datetime,
        status: str,
        filled_quantity_after: Decimal,
        average_fill_price_after: Decimal,
    ) -> None:
        self.filled_quantity = filled_quantity_after
        self.filled_notional = CONTEXT.add(self.filled_notional, CONTEXT.multiply(quantity, price))
        self.status = OrderStatus(status)

    def check_open(self, action: str) -> None:
        if not self.status.is_open:
            raise Conflict(f"order {self.id} is {self.status.value}; it cannot be {action}")

    def cancel(self, reason: str | None = None) -> None:
        self.check_open("cancelled")
        self._cancelled(reason=reason)

    class Cancelled(Aggregate.Event):
        reason: str | None

    @event(Cancelled)
    def _cancelled(self, reason: str | None) -> None:
        self.status = OrderStatus.CANCELLED

    def reject(self, reason: str) -> None:
        self.check_open("rejected")
        self._rejected(reason=reason)

    class Rejected(Aggregate.Event):
        reason: str

    @event(Rejected)
    def _rejected(self, reason: str) -> None:
        self.status = OrderStatus.REJECTED
        self.reject_reason = reason
