"""Reconciliation: the broker's positions against ours, per (account, instrument)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from domain.ids import requested_reconciliation_id
from domain.money import CONTEXT
from domain.values import ReconciliationPolicy


@dataclass(frozen=True)
class Mismatch:
    account: str
    instrument: str
    local_quantity: Decimal
    broker_quantity: Decimal

    @property
    def difference(self) -> Decimal:
        return CONTEXT.subtract(self.broker_quantity, self.local_quantity)


def find_mismatches(
    local: dict[tuple[str, str], Decimal], broker: dict[tuple[str, str], Decimal]
) -> list[Mismatch]:
    """Every pair whose quantities differ; a pair missing on one side counts as zero."""
    zero = Decimal(0)
    return [
        Mismatch(key[0], key[1], local.get(key, zero), broker.get(key, zero))
        for key in sorted(set(local) | set(broker))
        if local.get(key, zero) != broker.get(key, zero)
    ]


class Reconciliation(Aggregate):
    class Started(Aggregate.Created):
        policy: str

    @event(Started)
    def __init__(self, policy: str) -> None:
        self.policy = ReconciliationPolicy(policy)
        self.mismatches: list[Mismatch] = []
        self.completed = False
        self.corrected = False

    @classmethod
    def answering(cls, request_id: UUID, policy: str) -> Reconciliation:
        """The one run that answers a ReconciliationRequest (its id derives from it)."""
        return cls._create(cls.Started, id=requested_reconciliation_id(request_id), policy=policy)

    def record(self, mismatch: Mismatch) -> None:
        self._mismatch_detected(
            account=mismatch.account,
            instrument=mismatch.instrument,
            local_quantity=mismatch.local_quantity,
            broker_quantity=mismatch.broker_quantity,
            difference=mismatch.difference,
        )

    class MismatchDetected(Aggregate.Event):
        account: str
        instrument: str
        local_quantity: Decimal
        broker_quantity: Decimal
        difference: Decimal

    @event(MismatchDetected)
    def _mismatch_detected(
        self,
        account: str,
        instrument: str,
        local_quantity: Decimal,
        broker_quantity: Decimal,
        difference: Decimal,
    ) -> None:
        self.mismatches.append(Mismatch(account, instrument, local_quantity, broker_quantity))

    class Completed(Aggregate.Event):
        corrected: bool

    @event(Completed)
    def complete(self, corrected: bool) -> None:
        self.completed = True
        self.corrected = corrected


class ReconciliationRequest(Aggregate):
    """An on-demand run asked for by a process without the broker; the process that
    holds it runs it (as the Reconciliation whose id derives from this one's) unless
    the deadline, when the asker stops waiting, has passed."""

    class Requested(Aggregate.Created):
        policy: str
        deadline: datetime

    @event(Requested)
    def __init__(self, policy: str, deadline: datetime) -> None:
        self.policy = ReconciliationPolicy(policy)
        self.deadline = deadline
