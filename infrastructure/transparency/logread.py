"""The stored events as rows, for the integrity pass: what a leaf hashes, read
straight from the events table in pages, without building eventsourcing's
Notification objects (the pass reads every event; this halves its cost)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import NamedTuple
from uuid import UUID

from sqlalchemy import Engine, text

from infrastructure.database import DatabaseUrl
from infrastructure.eventstore import events_table


class StoredRow(NamedTuple):
    """The fields of a Notification that its leaf covers."""

    id: int
    originator_id: UUID | str  # SQLite keeps the UUID as its hex text
    originator_version: int
    topic: str
    state: bytes


def stored_pages(
    engine: Engine, url: DatabaseUrl, after: int, stop: int, page: int = 20_000
) -> Iterator[list[StoredRow]]:
    """Events with after < sequence <= stop, in order, a page at a time."""
    key = "rowid" if url.is_sqlite else "notification_id"
    statement = text(
        f"SELECT {key}, originator_id, originator_version, topic, state "
        f"FROM {events_table(url)} WHERE {key} > :after AND {key} <= :stop "
        f"ORDER BY {key} LIMIT :page"
    )
    with engine.connect() as connection:
        while after < stop:
            rows = (
                connection.execute(statement, {"after": after, "stop": stop, "page": page})
                .tuples()
                .all()
            )
            if not rows:
                return
            yield [StoredRow(int(i), o, int(v), t, bytes(s)) for i, o, v, t, s in rows]
            after = int(rows[-1][0])
