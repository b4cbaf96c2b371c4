"""The port a projection writes through, and the projection base class."""

from __future__ import annotations

from collections.abc import Callable, Hashable
from typing import Any, ClassVar, Protocol

from eventsourcing.utils import get_topic

Row = dict[str, Any]


class RowStore(Protocol):
    """Rows of one projection's tables, by table name and primary key."""

    def get(self, table: str, key: Hashable) -> Row | None: ...

    def put(self, table: str, key: Hashable, row: Row) -> None: ...

    def put_deferred(
        self, table: str, key: Hashable, build: Callable[..., Row], *args: Any
    ) -> None:
        """Like `put` of `build(*args)`, but built only if still the latest row of its
        key when the batch is written: for keys a batch overwrites many times (quotes)."""
        ...


class Projection:
    """Matches on event types and writes rows; ignores the rest.

    `handlers` maps event classes to method names; their topics become the
    runner's filter, so a projection never reads events it ignores.
    """

    name: ClassVar[str]
    tables: ClassVar[tuple[str, ...]]
    handlers: ClassVar[dict[type[Any], str]] = {}

    @classmethod
    def topics(cls) -> tuple[str, ...]:
        return tuple(get_topic(event_class) for event_class in cls.handlers)

    def apply(self, event: Any, sequence: int, store: RowStore) -> None:
        handler = self.handlers.get(type(event))
        if handler is not None:
            getattr(self, handler)(event, sequence, store)


def update(store: RowStore, table: str, key: Hashable, sequence: int, **changes: Any) -> None:
    """Change some columns of an existing row, stamping `as_of`."""
    row = store.get(table, key)
    if row is None:
        raise LookupError(f"{table} row {key} is missing; the log is out of order")
    store.put(table, key, {**row, **changes, "as_of": sequence})
