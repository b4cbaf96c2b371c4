from __future__ import annotations

from functools import singledispatchmethod

from application.projections.base import Projection, RowStore
from domain.fills import Fill


class TradesProjection(Projection):
    """The trade log: one row per fill, never changed."""

    name = "trades"
    tables = ("trades",)

    @singledispatchmethod
    def apply(self, event: object, sequence: int, store: RowStore) -> None:
        """Other events record no trade."""

    @apply.register
    def recorded(self, e: Fill.Recorded, sequence: int, store: RowStore) -> None:
        store.put(
            "trades",
            e.fill_id,
            {
                "fill_id": e.fill_id,
                "order_id": e.order_id,
                "account": e.account,
                "instrument": e.instrument,
                "side": e.side,
                "quantity": e.quantity,
                "price": e.price,
                "commission": e.commission,
                "realized_pnl": e.realized_pnl,
                "timestamp": e.fill_timestamp,
                "sequence": sequence,
                "as_of": sequence,
            },
        )
