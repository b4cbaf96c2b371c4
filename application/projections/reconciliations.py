from __future__ import annotations

from functools import singledispatchmethod

from application.projections.base import Projection, RowStore, update
from domain.reconciliation import Reconciliation


class ReconciliationsProjection(Projection):
    name = "reconciliations"
    tables = ("reconciliations", "mismatches")

    @singledispatchmethod
    def apply(self, event: object, sequence: int, store: RowStore) -> None:
        """Other events change no reconciliation."""

    @apply.register
    def started(self, e: Reconciliation.Started, sequence: int, store: RowStore) -> None:
        store.put(
            "reconciliations",
            e.originator_id,
            {
                "id": e.originator_id,
                "policy": e.policy,
                "started_at": e.timestamp,
                "completed_at": None,
                "corrected": False,
                "as_of": sequence,
            },
        )

    @apply.register
    def mismatch(self, e: Reconciliation.MismatchDetected, sequence: int, store: RowStore) -> None:
        key = (e.originator_id, e.account, e.instrument)
        store.put(
            "mismatches",
            key,
            {
                "reconciliation_id": e.originator_id,
                "account": e.account,
                "instrument": e.instrument,
                "local_quantity": e.local_quantity,
                "broker_quantity": e.broker_quantity,
                "difference": e.difference,
                "as_of": sequence,
            },
        )
        update(store, "reconciliations", e.originator_id, sequence)

    @apply.register
    def completed(self, e: Reconciliation.Completed, sequence: int, store: RowStore) -> None:
        update(
            store,
            "reconciliations",
            e.originator_id,
            sequence,
            completed_at=e.timestamp,
            corrected=e.corrected,
        )
