"""Shared plumbing of the command mixins: loading, saving and sequences."""

from __future__ import annotations

from decimal import Decimal
from typing import TypeVar
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError, Application
from eventsourcing.domain import Aggregate

from application.ports import Clock, utc_now
from domain.errors import NotFound

A = TypeVar("A", bound=Aggregate)


class CommandBase(Application[UUID]):
    """An eventsourcing Application with the helpers every command uses."""

    clock: Clock = staticmethod(utc_now)  # type: ignore[assignment]
    default_account = "default"
    default_signal_quantity = Decimal(1)

    def load(self, kind: type[A], aggregate_id: UUID, what: str | None = None) -> A:
        """The aggregate, or NotFound naming it."""
        found = self.find(kind, aggregate_id)
        if found is None:
            raise NotFound(f"{what or kind.__name__.lower()} {aggregate_id} does not exist")
        return found

    def find(self, kind: type[A], aggregate_id: UUID) -> A | None:
        try:
            aggregate: object = self.repository.get(aggregate_id)
        except AggregateNotFoundError:
            return None
        return aggregate if isinstance(aggregate, kind) else None

    def commit(self, *aggregates: Aggregate | None) -> int:
        """Save atomically; the sequence of the last event appended."""
        recordings = self.save(*aggregates)
        if not recordings:
            return self.head_sequence()
        return max(r.notification.id for r in recordings)

    def head_sequence(self) -> int:
        return self.recorder.max_notification_id() or 0
