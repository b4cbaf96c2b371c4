"""Reconciliation: the broker's book against our positions, ALERT or AUTO_CORRECT."""

from __future__ import annotations

from decimal import Decimal
from uuid import UUID

from eventsourcing.domain import Aggregate

from application.ports import BrokerPositions, MarketPrices, PositionDirectory, PositionKey
from application.positions import disarm_all, position_of
from application.results import ReconciliationResult
from application.retry import retrying
from application.store import Store
from domain.errors import Unavailable
from domain.reconciliation import Reconciliation, find_mismatches
from domain.values import ReconciliationPolicy


class ReconciliationCommands:
    """Reconciles in this process, against `broker` (None: this process has none)."""

    def __init__(
        self,
        store: Store,
        *,
        broker: BrokerPositions | None = None,
        position_directory: PositionDirectory | None = None,
        market_prices: MarketPrices | None = None,
    ) -> None:
        self.store = store
        self.broker = broker
        #: The positions held locally, besides those the broker reports.
        self.position_directory = position_directory
        #: The price an AUTO_CORRECT adjustment is booked at (None: at the position's).
        self.market_prices = market_prices

    def reconcile(self, policy: ReconciliationPolicy | str = "ALERT") -> ReconciliationResult:
        """Compare the broker's positions with ours; record mismatches; with
        AUTO_CORRECT also adjust each position to the broker's quantity."""
        chosen = ReconciliationPolicy(policy)
        if self.broker is None:
            raise Unavailable("no broker is configured; reconciliation is unavailable")
        broker = self.broker.positions()
        return retrying(lambda: self.run(chosen, broker))

    def run(
        self,
        policy: ReconciliationPolicy,
        broker: dict[PositionKey, Decimal],
        request_id: UUID | None = None,
    ) -> ReconciliationResult:
        """One run against `broker`, the broker's quantities (answering `request_id`)."""
        keys = set(self.position_directory.keys() if self.position_directory else []) | set(broker)
        positions = {key: position_of(self.store, *key) for key in keys}
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
                    adjusted.extend(disarm_all(self.store, position, "position closed"))
        run.complete(corrected=bool(adjusted))
        sequence, as_of = self.store.commit_served(run, *adjusted)
        return ReconciliationResult(run, sequence, as_of=as_of)
