"""The stored events as rows, for the tree: what a leaf hashes, read straight from
the events table in pages with the driver's cursor, without building
eventsourcing's Notification objects (the integrity pass reads every event; the
objects cost more than the hashing)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import cast
from uuid import UUID

from sqlalchemy import Engine

from infrastructure.database import DatabaseUrl
from infrastructure.eventstore import events_table

# (sequence, originator id, originator version, topic, state); SQLite keeps the
# originator id as its UUID's hex text, PostgreSQL as a UUID.
StoredRow = tuple[int, UUID | str, int, str, bytes]


def stored_pages(
    engine: Engine, url: DatabaseUrl, after: int, stop: int, page: int = 20_000
) -> Iterator[list[StoredRow]]:
    """Events with after < sequence <= stop, in order, a page at a time."""
    key, mark = ("rowid", "?") if url.is_sqlite else ("notification_id", "%s")
    statement = (
        f"SELECT {key}, originator_id, originator_version, topic, state "
        f"FROM {events_table(url)} WHERE {key} > {mark} AND {key} <= {mark} "
        f"ORDER BY {key} LIMIT {mark}"
    )
    with engine.connect() as connection:
        cursor = connection.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
        try:
            while after < stop:
                cursor.execute(statement, (after, stop, page))
                rows = cast(list[StoredRow], cursor.fetchall())  # DB-API: a list of tuples
                if not rows:
                    return
                yield rows
                after = int(rows[-1][0])
        finally:
            cursor.close()
