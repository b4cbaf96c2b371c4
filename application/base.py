"""Shared plumbing of the command mixins: loading, saving and sequences."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from copy import deepcopy
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from enum import Enum
from typing import Any, ClassVar, TypeVar
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError, Application, ProcessingEvent
from eventsourcing.domain import Aggregate
from eventsourcing.persistence import Recording

from application.ports import Clock, utc_now
from application.served import SERVED_TOPICS, served_sequences
from domain.errors import NotFound

A = TypeVar("A", bound=Aggregate)
RecordingObserver = Callable[[Sequence[Recording[UUID]]], None]

# Values a command cannot change in place: a copy may share them (and enum members).
_IMMUTABLE = frozenset(
    (str, int, float, bool, Decimal, UUID, datetime, date, time, timedelta, type(None))
)


def copy_aggregate(aggregate: A) -> A:
    """A deep copy that shares immutable values (ids, amounts, timestamps, enums).

    `copy.deepcopy` rebuilds every UUID and datetime through `__reduce_ex__`,
    which made it the largest cost of loading a cached aggregate.
    """
    memo: dict[int, Any] = {}
    state = aggregate.__dict__.copy()
    for name, value in state.items():
        kind = type(value)
        if kind in _IMMUTABLE or issubclass(kind, Enum):
            continue
        if kind is list:
            state[name] = [
                item if type(item) in _IMMUTABLE or isinstance(item, Enum) else deepcopy(item, memo)
                for item in value
            ]
        else:
            state[name] = deepcopy(value, memo)
    clone = object.__new__(type(aggregate))
    clone.__dict__.update(state)
    return clone


class CommandBase(Application[UUID]):
    """An eventsourcing Application with the helpers every command uses.

    Aggregates in the repository's cache are never handed out: `find` returns a
    copy, and `save` caches a copy of what it stored. A command that fails after
    changing its aggregates therefore leaves the cache as it was.
    """

    clock: Clock = staticmethod(utc_now)
    default_account = "default"
    default_signal_quantity = Decimal(1)
    # Aggregates later commands load again; others (quote batches) stay out of the cache.
    cached_on_save: ClassVar[tuple[type[Aggregate], ...]] = ()
    observers: tuple[RecordingObserver, ...] = ()

    def observe(self, observer: RecordingObserver) -> None:
        """Call `observer` with the recordings of every save once it committed
        (metrics count appended events this way)."""
        self.observers = (*self.observers, observer)

    def load(self, kind: type[A], aggregate_id: UUID, what: str | None = None) -> A:
        """The aggregate, or NotFound naming it."""
        found = self.find(kind, aggregate_id)
        if found is None:
            raise NotFound(f"{what or kind.__name__.lower()} {aggregate_id} does not exist")
        return found

    def find(self, kind: type[A], aggregate_id: UUID) -> A | None:
        try:
            # Fast-forwarded from the store when cached, so current across processes.
            aggregate: object = self.repository.get(aggregate_id, deepcopy_from_cache=False)
        except AggregateNotFoundError:
            return None
        return copy_aggregate(aggregate) if isinstance(aggregate, kind) else None

    def take_cached(self, kind: type[A], aggregate_id: UUID) -> A | None:
        """The cached aggregate, taken out of the cache (the caller owns it and
        `save` caches a copy again), or None. No query: its state is stale when
        another process appended since, so only a command that appends to it may
        use it: its save then fails on the version and the command reruns on fresh
        state."""
        cache = self.repository.cache
        if cache is None:
            return None
        try:
            aggregate = cache.get(aggregate_id, evict=True)
        except KeyError:
            return None
        return aggregate if isinstance(aggregate, kind) else None

    def save(self, *objs: Any, **kwargs: Any) -> list[Recording[UUID]]:
        """The library's save, collecting events without its runtime Protocol
        checks (slow on Python 3.11), and caching a copy of what it stored (the
        library caches nothing on save when the cache fast-forwards), so the next
        command on these aggregates does not reconstruct them."""
        processing: ProcessingEvent[UUID] = ProcessingEvent()
        for obj in objs:
            if isinstance(obj, Aggregate):
                processing.events.extend(obj.collect_events())
                processing.aggregates[obj.id] = obj
            elif obj is not None:
                processing.collect_events(obj)
        processing.saved_kwargs.update(kwargs)
        recordings = self._record(processing)
        for observer in self.observers:
            observer(recordings)
        cache = self.repository.cache
        if cache is not None and self.repository.fastforward:
            for aggregate_id, aggregate in processing.aggregates.items():
                if isinstance(aggregate, self.cached_on_save):
                    cache.put(aggregate_id, copy_aggregate(aggregate))
        self._take_snapshots(processing)
        self._notify(recordings)
        self.notify(processing.events)
        return recordings

    def commit(self, *aggregates: Aggregate | None) -> int:
        """Save atomically; the sequence of the last event appended."""
        recordings = self.save(*aggregates)
        if not recordings:
            return self.head_sequence()
        return max(r.notification.id for r in recordings)

    def commit_served(self, *aggregates: Aggregate | None) -> tuple[int, dict[UUID, int]]:
        """Save atomically; the last sequence appended, and per aggregate the last
        sequence its read-model row will reflect (its `asOf`)."""
        recordings = self.save(*aggregates)
        if not recordings:
            return self.head_sequence(), {}
        return max(r.notification.id for r in recordings), served_sequences(recordings)

    def served_as_of(self, *aggregates: Aggregate) -> dict[UUID, int]:
        """For aggregates read back rather than saved (an idempotent replay): the
        sequence of each one's last event a read model applies, by the store's index."""
        lookup = getattr(self.recorder, "last_sequence", None)
        if lookup is None:
            return {}
        found = {a.id: lookup(a.id, SERVED_TOPICS) for a in aggregates}
        return {key: sequence for key, sequence in found.items() if sequence is not None}

    def head_sequence(self) -> int:
        return self.recorder.max_notification_id() or 0
