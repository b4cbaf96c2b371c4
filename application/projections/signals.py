from __future__ import annotations

from functools import singledispatchmethod
from typing import Any

from application.projections.base import Projection, RowStore, update
from domain.signals import Signal


class SignalsProjection(Projection):
    name = "signals"
    tables = ("signals",)
    _status = {
        Signal.Expired: "EXPIRED",
        Signal.Executed: "EXECUTED",
    }

    @singledispatchmethod
    def apply(self, event: object, sequence: int, store: RowStore) -> None:
        """Other events change no signal."""

    @apply.register
    def generated(self, e: Signal.Generated, sequence: int, store: RowStore) -> None:
        store.put(
            "signals",
            e.originator_id,
            {
                "id": e.originator_id,
                "strategy": e.strategy,
                "instrument": e.instrument,
                "side": e.side,
                "strength": e.strength,
                "quantity": e.quantity,
                "status": "PENDING",
                "reason": e.reason,
                "order_id": None,
                "created_at": e.timestamp,
                "updated_at": e.timestamp,
                "expires_at": e.expires_at,
                "as_of": sequence,
            },
        )

    @apply.register
    def accepted(self, e: Signal.Accepted, sequence: int, store: RowStore) -> None:
        update(
            store,
            "signals",
            e.originator_id,
            sequence,
            status="ACCEPTED",
            order_id=e.order_id,
            quantity=e.quantity,
            updated_at=e.timestamp,
        )

    @apply.register
    def rejected(self, e: Signal.Rejected, sequence: int, store: RowStore) -> None:
        update(
            store,
            "signals",
            e.originator_id,
            sequence,
            status="REJECTED",
            reason=e.reason,
            updated_at=e.timestamp,
        )

    @apply.register
    def cancelled(self, e: Signal.Cancelled, sequence: int, store: RowStore) -> None:
        changes: dict[str, Any] = {"status": "CANCELLED", "updated_at": e.timestamp}
        if e.reason:
            changes["reason"] = e.reason
        update(store, "signals", e.originator_id, sequence, **changes)

    @apply.register
    def status_only(
        self, e: Signal.Expired | Signal.Executed, sequence: int, store: RowStore
    ) -> None:
        status = self._status[type(e)]
        update(store, "signals", e.originator_id, sequence, status=status, updated_at=e.timestamp)
