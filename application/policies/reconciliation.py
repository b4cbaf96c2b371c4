"""Runs the reconciliations other processes request through the store, in the
process that holds the broker (application/reconciliation_requests.py).

On start-up it reads every request in the log: those whose asker still waits
are run (a broker process that took over from a dead one answers them), the
rest are skipped by their deadline; a run already recorded is never run again.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

from eventsourcing.persistence import Notification
from eventsourcing.utils import get_topic

from application.commands import Commands
from application.engine import topics
from domain.reconciliation import ReconciliationRequest

log = logging.getLogger(__name__)


class ReconciliationRequests:
    name = "reconciliation-requests"

    def __init__(self, commands: Commands) -> None:
        self.commands = commands
        self.store = commands.store
        self.topics: Sequence[str] = (get_topic(ReconciliationRequest.Requested),)

    def recover(self) -> int:
        return 0

    def handle(self, notification: Notification) -> None:
        request = topics.decode(self.store, notification)
        if self.store.clock() > request.deadline:
            return
        result = self.commands.reconciliation_requests.run_requested_reconciliation(
            request.originator_id
        )
        if result is not None:
            log.info(
                "requested reconciliation %s (%s): %d mismatches",
                result.reconciliation.id,
                request.policy,
                len(result.reconciliation.mismatches),
            )
