from __future__ import annotations

from functools import singledispatchmethod

from application.projections.base import Projection, RowStore, update
from domain.monitors import Monitor


class MonitorsProjection(Projection):
    name = "monitors"
    tables = ("monitors",)

    @singledispatchmethod
    def apply(self, event: object, sequence: int, store: RowStore) -> None:
        """Other events change no monitor."""

    @apply.register
    def armed(self, e: Monitor.Armed, sequence: int, store: RowStore) -> None:
        store.put(
            "monitors",
            e.originator_id,
            {
                "id": e.originator_id,
                "account": e.account,
                "instrument": e.instrument,
                "stop_loss": e.stop_loss,
                "take_profit": e.take_profit,
                "trailing_distance": e.trailing_distance,
                "high_water_mark": e.water_mark,
                "status": "ACTIVE",
                "trigger_reason": None,
                "trigger_price": None,
                "exit_order_id": None,
                "created_at": e.timestamp,
                "updated_at": e.timestamp,
                "as_of": sequence,
            },
        )

    @apply.register
    def mark_moved(self, e: Monitor.WaterMarkMoved, sequence: int, store: RowStore) -> None:
        update(
            store,
            "monitors",
            e.originator_id,
            sequence,
            high_water_mark=e.price,
            updated_at=e.timestamp,
        )

    @apply.register
    def triggered(self, e: Monitor.Triggered, sequence: int, store: RowStore) -> None:
        update(
            store,
            "monitors",
            e.originator_id,
            sequence,
            status="TRIGGERED",
            trigger_reason=e.reason,
            trigger_price=e.price,
            exit_order_id=e.exit_order_id,
            updated_at=e.timestamp,
        )

    @apply.register
    def disarmed(self, e: Monitor.Disarmed, sequence: int, store: RowStore) -> None:
        update(
            store,
            "monitors",
            e.originator_id,
            sequence,
            status="DISARMED",
            trigger_reason=e.reason,
            updated_at=e.timestamp,
        )
