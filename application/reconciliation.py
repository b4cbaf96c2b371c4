"""Reconciliation: the broker's book against our positions, ALERT or AUTO_CORRECT."""

from __future__ import annotations

from decimal import Decimal
from uuid import UUID

from eventsourcing.domain import Aggregate

from application.monitors import MonitorCommands
from application.ports import BrokerPositions, PositionDirectory, PositionKey
from application.results import ReconciliationResult
from application.retry import retrying
from domain.errors import Unavailable
from domain.reconciliation import Reconciliation, find_mismatches
from domain.values import ReconciliationPolicy


class ReconciliationCommands(MonitorCommands):
    broker: BrokerPositions | None = None
    position_directory: PositionDirectory | None = None

    def reconcile(self, policy: ReconciliationPolicy | str = "ALERT") -> ReconciliationResult:
        """Compare the broker's positions with ours; record mismatches; with
        AUTO_CORRECT also adjust each position to the broker's quantity."""
        chosen = ReconciliationPolicy(policy)
        if self.broker is None:
            raise Unavailable("no broker is configured; reconciliation is unavailable")
        broker = self.broker.positions()
        return retrying(lambda: self._reconcile(chosen, broker))

    def _reconcile(
        self,
        policy: ReconciliationPolicy,
        broker: dict[PositionKey, Decimal],
        request_id: UUID | None = None,
    ) -> ReconciliationResult:
        keys = set(self.position_directory.keys() if self.position_directory else []) | set(broker)
        positions = {key: self.position(*key) for key in keys}
        local = {key: p.quantity for key, p in positions.items() if p.quantity != 0}
        run = (
            Reconciliation(policy=policy.value)
            if request_id is None
            else Reconciliation.answering(request_id, policy.value)
        )
        adjusted: list[Aggregate] = []
        for mismatch in find_mismatches(local, broker):
            run.record(mismatch)
            if policy is ReconciliationPolicy.AUTO_CORRECT:
                position = positions[(mismatch.account, mismatch.instrument)]
                price = (
                    self.market_prices.last_price(mismatch.instrument)
                    if self.market_prices
                    else None
                )
                before = position.quantity
                position.adjust(
                    quantity=mismatch.broker_quantity, reason="reconciliation", market_price=price
                )
                adjusted.append(position)
                if position.closes_or_flips(before):
                    adjusted.extend(self._disarm_all(position, "position closed"))
        run.complete(corrected=bool(adjusted))
        sequence, as_of = self.commit_served(run, *adjusted)
        return ReconciliationResult(run, sequence, as_of=as_of)
