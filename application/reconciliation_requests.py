"""On-demand reconciliation from a process without the broker (SPEC section 3).

The asker records a ReconciliationRequest; the process holding the broker follows
the log (application/policies/reconciliation.py) and runs it as the Reconciliation
whose id derives from the request's, so the asker knows which run answers it and a
request is run at most once, whoever runs it. The asker waits for that run's
Completed event until the request's deadline, then answers UNAVAILABLE.
"""

from __future__ import annotations

import time
from datetime import timedelta
from uuid import UUID

from eventsourcing.utils import get_topic

from application.ports import BrokerPresence
from application.reconciliation import ReconciliationCommands
from application.results import ReconciliationResult
from application.retry import retrying
from application.store import Store
from domain.errors import Unavailable
from domain.ids import requested_reconciliation_id
from domain.reconciliation import Reconciliation, ReconciliationRequest
from domain.values import ReconciliationPolicy

POLL_SECONDS = 0.05


class ReconciliationRequestCommands:
    """Reconciliation asked through the store; `local` runs it where the broker is."""

    def __init__(
        self,
        store: Store,
        local: ReconciliationCommands,
        broker_presence: BrokerPresence | None = None,
    ) -> None:
        self.store = store
        self.local = local
        #: Whether some process on the store holds a broker and takes requests.
        self.broker_presence = broker_presence

    def reconcile_anywhere(
        self, policy: ReconciliationPolicy | str = "ALERT", timeout: float = 10.0
    ) -> ReconciliationResult:
        """Reconcile here when this process has the broker, else through the store in
        the process that has it; UNAVAILABLE when none has, or no run is recorded
        within `timeout` seconds."""
        chosen = ReconciliationPolicy(policy)
        if self.local.broker is not None:
            return self.local.reconcile(chosen)
        if self.broker_presence is None or not self.broker_presence.available():
            raise Unavailable("no broker is configured anywhere; reconciliation is unavailable")
        request = ReconciliationRequest(
            policy=chosen.value, deadline=self.store.clock() + timedelta(seconds=timeout)
        )
        asked_at = self.store.commit(request)
        found = self._wait_for_run(requested_reconciliation_id(request.id), asked_at, timeout)
        if found is None:
            raise Unavailable(
                f"the process holding the broker recorded no reconciliation within {timeout:g} s"
            )
        return found

    def _wait_for_run(
        self, run_id: UUID, after: int, timeout: float
    ) -> ReconciliationResult | None:
        topic = get_topic(Reconciliation.Completed)
        deadline = time.monotonic() + timeout
        while True:
            for notification in self.store.recorder.select_notifications(
                after, 1000, topics=[topic], inclusive_of_start=False
            ):
                if UUID(str(notification.originator_id)) == run_id:
                    run = self.store.find(Reconciliation, run_id)
                    assert run is not None
                    return ReconciliationResult(run, notification.id)
                after = notification.id
            if time.monotonic() >= deadline:
                return None
            time.sleep(POLL_SECONDS)

    def run_requested_reconciliation(self, request_id: UUID) -> ReconciliationResult | None:
        """Run a request (in the process with the broker); None when it was run
        already or its asker has stopped waiting."""
        request = self.store.find(ReconciliationRequest, request_id)
        assert request is not None
        broker = self.local.broker
        if broker is None:
            raise Unavailable("no broker is configured; reconciliation is unavailable")
        if self.store.clock() > request.deadline:
            return None
        run_id = requested_reconciliation_id(request_id)
        if self.store.find(Reconciliation, run_id) is not None:
            return None
        positions = broker.positions()

        def run() -> ReconciliationResult | None:
            if self.store.find(Reconciliation, run_id) is not None:
                return None
            return self.local.run(request.policy, positions, request_id)

        return retrying(run)
