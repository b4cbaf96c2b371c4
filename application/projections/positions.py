from __future__ import annotations

from functools import singledispatchmethod
from typing import Any

from application.projections.base import Projection, RowStore
from domain.positions import Position


def _status(quantity: Any) -> str:
    return "CLOSED" if quantity == 0 else "OPEN"


class PositionsProjection(Projection):
    name = "positions"
    tables = ("positions",)

    @singledispatchmethod
    def apply(self, event: object, sequence: int, store: RowStore) -> None:
        """Other events change no position."""

    @apply.register
    def opened(self, e: Position.Opened, sequence: int, store: RowStore) -> None:
        store.put(
            "positions",
            e.originator_id,
            {
                "id": e.originator_id,
                "account": e.account,
                "instrument": e.instrument,
                "quantity": 0,
                "average_price": None,
                "realized_pnl": 0,
                "market_price": None,
                "status": "CLOSED",
                "opened_at": None,
                "updated_at": e.timestamp,
                "as_of": sequence,
            },
        )

    @apply.register
    def changed(
        self, e: Position.FillApplied | Position.Adjusted, sequence: int, store: RowStore
    ) -> None:
        row = store.get("positions", e.originator_id)
        assert row is not None
        quantity = e.quantity_after
        opened_at = row["opened_at"]
        if quantity == 0:
            opened_at = None
        elif row["quantity"] == 0:
            opened_at = getattr(e, "fill_timestamp", e.timestamp)
        changes = {
            "quantity": quantity,
            "average_price": e.average_price_after,
            "status": _status(quantity),
            "opened_at": opened_at,
            "updated_at": e.timestamp,
        }
        if isinstance(e, Position.FillApplied):
            changes["realized_pnl"] = e.realized_pnl_after
        store.put("positions", e.originator_id, {**row, **changes, "as_of": sequence})
