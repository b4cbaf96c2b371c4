from __future__ import annotations

from functools import singledispatchmethod

from application.projections.base import Projection, RowStore, update
from domain.orders import Order


class OrdersProjection(Projection):
    name = "orders"
    tables = ("orders",)

    @singledispatchmethod
    def apply(self, event: object, sequence: int, store: RowStore) -> None:
        """Other events change no order."""

    @apply.register
    def placed(self, e: Order.Placed, sequence: int, store: RowStore) -> None:
        store.put(
            "orders",
            e.originator_id,
            {
                "id": e.originator_id,
                "client_order_id": e.client_order_id,
                "account": e.account,
                "instrument": e.instrument,
                "side": e.side,
                "type": e.order_type,
                "quantity": e.quantity,
                "limit_price": e.limit_price,
                "status": "SUBMITTED",
                "filled_quantity": 0,
                "average_fill_price": None,
                "signal_id": e.signal_id,
                "reject_reason": None,
                "created_at": e.timestamp,
                "updated_at": e.timestamp,
                "as_of": sequence,
            },
        )

    @apply.register
    def filled(self, e: Order.Filled, sequence: int, store: RowStore) -> None:
        update(
            store,
            "orders",
            e.originator_id,
            sequence,
            status=e.status,
            filled_quantity=e.filled_quantity_after,
            average_fill_price=e.average_fill_price_after,
            updated_at=e.timestamp,
        )

    @apply.register
    def cancelled(self, e: Order.Cancelled, sequence: int, store: RowStore) -> None:
        update(
            store, "orders", e.originator_id, sequence, status="CANCELLED", updated_at=e.timestamp
        )

    @apply.register
    def rejected(self, e: Order.Rejected, sequence: int, store: RowStore) -> None:
        update(
            store,
            "orders",
            e.originator_id,
            sequence,
            status="REJECTED",
            reject_reason=e.reason,
            updated_at=e.timestamp,
        )
