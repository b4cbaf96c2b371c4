"""Fill: one execution reported by the broker, identified by its fillId.

A Fill is its own aggregate (id derived from fillId) so that a fillId is
unique across all orders and processes: recording it twice collides on the
event store's (id, version) key instead of applying twice.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from domain.errors import Conflict, echoed
from domain.ids import fill_id as derive_fill_id


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
