"""Fill: one execution reported by the broker, identified by its fillId.

A Fill is its own aggregate (id derived from fillId) so that a fillId is
unique across all orders and processes: recording it twice collides on the
event store's (id, version) key instead of applying twice.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from domain.errors import Conflict, echoed
from domain.ids import fill_id as derive_fill_id
from domain.values import Side


@dataclass(frozen=True)
class FillTerms:
    """One execution's terms, written out once: the order's `fill`, the position's
    `apply_fill` and the `Fill` record each take them from here (their events still
    store the fields flat, as before)."""

    fill_id: str
    order_id: UUID
    side: Side
    quantity: Decimal
    price: Decimal
    commission: Decimal  # as reported; the position books it rounded to the currency
    timestamp: datetime


class Fill(Aggregate):
    class Recorded(Aggregate.Created):
        fill_id: str
        order_id: UUID
        position_id: UUID
        account: str
        instrument: str
        side: str
        quantity: Decimal
        price: Decimal
        commission: Decimal
        realized_pnl: Decimal
        fill_timestamp: datetime

    @event(Recorded)
    def __init__(
        self,
        fill_id: str,
        order_id: UUID,
        position_id: UUID,
        account: str,
        instrument: str,
        side: str,
        quantity: Decimal,
        price: Decimal,
        commission: Decimal,
        realized_pnl: Decimal,
        fill_timestamp: datetime,
    ) -> None:
        self.fill_id = fill_id
        self.order_id = order_id
        self.position_id = position_id
        self.account = account
        self.instrument = instrument
        self.side = side
        self.quantity = quantity
        self.price = price
        self.commission = commission
        self.realized_pnl = realized_pnl
        self.fill_timestamp = fill_timestamp

    @classmethod
    def record(
        cls,
        terms: FillTerms,
        *,
        position_id: UUID,
        account: str,
        instrument: str,
        commission: Decimal,
        realized_pnl: Decimal,
    ) -> Fill:
        """The record of an execution netted into `position_id`, with the commission
        as booked and the P&L it realized."""
        return cls(
            fill_id=terms.fill_id,
            order_id=terms.order_id,
            position_id=position_id,
            account=account,
            instrument=instrument,
            side=terms.side.value,
            quantity=terms.quantity,
            price=terms.price,
            commission=commission,
            realized_pnl=realized_pnl,
            fill_timestamp=terms.timestamp,
        )

    @staticmethod
    def create_id(fill_id: str, **_: object) -> UUID:
        return derive_fill_id(fill_id)

    def check_same_terms(
        self,
        order_id: UUID,
        quantity: Decimal,
        price: Decimal,
        commission: Decimal,
        timestamp: datetime | None,
    ) -> None:
        """A fillId replayed is the same execution only with the same terms; an omitted
        timestamp matches the one the first recording took from the clock."""
        if order_id != self.order_id:
            raise Conflict(
                f"fillId {echoed(self.fill_id)} was already recorded for order {self.order_id}",
                field="fillId",
            )
        same = (quantity, price, commission) == (self.quantity, self.price, self.commission)
        if not same or (timestamp is not None and timestamp != self.fill_timestamp):
            raise Conflict(
                f"fillId {echoed(self.fill_id)} was already recorded with different terms "
                f"(quantity {self.quantity}, price {self.price}, commission {self.commission})",
                field="fillId",
            )
