"""The port a projection writes through, and the projection base class."""

from __future__ import annotations

import inspect
from collections.abc import Callable, Hashable
from functools import singledispatchmethod
from typing import Any, ClassVar, Protocol

from eventsourcing.utils import get_topic

Row = dict[str, Any]


class RowStore(Protocol):
    """Rows of one projection's tables, by table name and primary key."""

    def get(self, table: str, key: Hashable) -> Row | None:
        """The row of `key`, to read only (it may be a committed row others hold)."""
        ...

    def get_for_update(self, table: str, key: Hashable) -> Row | None:
        """The row of `key` to change in place, written with the batch: the batch's own
        copy, made at the first such read of `key` in the batch (or the row the batch
        put). An event that fails discards its whole batch, so no event's half-made
        change is ever written."""
        ...

    def put(self, table: str, key: Hashable, row: Row) -> None:
        """Write `row` with the batch. The store takes it, so it must be the
        projection's own: a new dict, or one from `get_for_update` (never one from
        `get`); the batch may go on changing it in place, as `get_for_update` allows."""
        ...

    def put_deferred(
        self, table: str, key: Hashable, build: Callable[..., Row], *args: Any
    ) -> None:
        """Like `put` of `build(*args)`, but built only if still the latest row of its
        key when the batch is written: for keys a batch overwrites many times (quotes)."""
        ...


class Projection:
    """Dispatches on event types and writes rows; ignores the rest.

    Each projection declares, once:
    - `tables`: the read-model tables it writes, parents first. Infrastructure
      takes them from here: the SQL tables of slots a and b, the rebuild's slot
      machinery, the change watcher that follows them across processes.
    - `apply`: a `functools.singledispatchmethod` with one method registered per
      event type it handles (`@apply.register`, the type from the annotation).
      The registered types are `events()`, whose topics are the runner's filter,
      so a projection never reads events it ignores.
    """

    name: ClassVar[str]
    tables: ClassVar[tuple[str, ...]]

    @singledispatchmethod
    def apply(self, event: object, sequence: int, store: RowStore) -> None:
        """An event no method is registered for changes nothing."""

    @classmethod
    def events(cls) -> tuple[type[Any], ...]:
        """The event types `apply` has a method for."""
        apply = inspect.getattr_static(cls, "apply")
        if not isinstance(apply, singledispatchmethod) or apply is Projection.__dict__["apply"]:
            raise TypeError(f"{cls.__name__} must define its own singledispatchmethod `apply`")
        return tuple(t for t in apply.dispatcher.registry if t is not object)

    def handler(self, event_type: type[Any]) -> Callable[[Any, int, RowStore], None]:
        """The method `apply` calls for an event of `event_type`, bound to this
        projection: a runner looks it up once per type, not at every event."""
        apply = inspect.getattr_static(type(self), "apply")
        method: Callable[..., None] = apply.dispatcher.dispatch(event_type)
        return method.__get__(self, type(self))

    @classmethod
    def topics(cls) -> tuple[str, ...]:
        return tuple(get_topic(event_class) for event_class in cls.events())


def update(store: RowStore, table: str, key: Hashable, sequence: int, **changes: Any) -> None:
    """Change some columns of an existing row, stamping `as_of`."""
    row = store.get_for_update(table, key)
    if row is None:
        raise LookupError(f"{table} row {key} is missing; the log is out of order")
    row.update(changes)
    row["as_of"] = sequence
