"""One aggregate's notifications, by the store's (originator_id, version) index.

The recorders list notifications by sequence only; finding one aggregate's events
that way scans the whole log. Both stores index (originator_id, originator_version)
for their own loading, so reading one aggregate's notifications costs its own events.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from typing import Any
from uuid import UUID

from eventsourcing.persistence import Notification
from eventsourcing.sqlite import SQLiteApplicationRecorder


def aggregate_notifications(
    recorder: Any,
    originator_id: UUID,
    *,
    after: int = 0,
    limit: int = 1_000,
    topics: Sequence[str] = (),
    newest_first: bool = False,
) -> list[Notification]:
    """The aggregate's notifications with sequence > after, in sequence order (or the
    newest first: the last `limit` of them, latest first)."""
    if isinstance(recorder, SQLiteApplicationRecorder):
        return _sqlite(recorder, originator_id, after, limit, topics, newest_first)
    if _is_postgres(recorder):
        return _postgres(recorder, originator_id, after, limit, topics, newest_first)
    found = _scan(recorder, originator_id, after, None if newest_first else limit, topics)
    return found[::-1][:limit] if newest_first else found[:limit]


def _is_postgres(recorder: Any) -> bool:
    """Without importing psycopg, which a SQLite store never needs."""
    postgres = sys.modules.get("eventsourcing.postgres")
    return postgres is not None and isinstance(recorder, postgres.PostgresApplicationRecorder)


def _sqlite(
    recorder: SQLiteApplicationRecorder,
    originator_id: UUID,
    after: int,
    limit: int,
    topics: Sequence[str],
    newest_first: bool,
) -> list[Notification]:
    statement = (
        f"SELECT rowid, * FROM {recorder.events_table_name} WHERE originator_id = ? AND rowid > ?"
    )
    params: list[Any] = [originator_id.hex, after]
    if topics:
        statement += f" AND topic IN ({','.join('?' * len(topics))})"
        params += list(topics)
    statement += f" ORDER BY originator_version{' DESC' if newest_first else ''} LIMIT ?"
    params.append(limit)
    with recorder.datastore.transaction(commit=False) as cursor:
        cursor.execute(statement, params)
        return [
            Notification(
                id=row["rowid"],
                originator_id=originator_id,
                originator_version=row["originator_version"],
                topic=row["topic"],
                state=row["state"],
            )
            for row in cursor.fetchall()
        ]


def _postgres(
    recorder: Any,
    originator_id: UUID,
    after: int,
    limit: int,
    topics: Sequence[str],
    newest_first: bool,
) -> list[Notification]:
    from psycopg.sql import SQL, Identifier

    statement = SQL(
        "SELECT * FROM {schema}.{table} WHERE originator_id = %s AND notification_id > %s"
    ).format(
        schema=Identifier(recorder.datastore.schema),
        table=Identifier(recorder.events_table_name),
    )
    params: list[Any] = [originator_id, after]
    if topics:
        statement += SQL(" AND topic = ANY(%s)")
        params.append(list(topics))
    order = " DESC" if newest_first else ""
    statement += SQL(" ORDER BY originator_version" + order + " LIMIT %s")
    params.append(limit)
    with recorder.datastore.get_connection() as connection, connection.cursor() as cursor:
        cursor.execute(statement, params)
        return [
            Notification(
                id=row["notification_id"],
                originator_id=originator_id,
                originator_version=row["originator_version"],
                topic=row["topic"],
                state=bytes(row["state"]),
            )
            for row in cursor.fetchall()
        ]


def _scan(
    recorder: Any, originator_id: UUID, after: int, limit: int | None, topics: Sequence[str]
) -> list[Notification]:
    """Any other recorder (the in-memory one of unit tests): walk the log."""
    found: list[Notification] = []
    start = after + 1
    while limit is None or len(found) < limit:
        page = recorder.select_notifications(start, 1_000, topics=topics)
        if not page:
            break
        found += [n for n in page if n.originator_id == originator_id]
        start = page[-1].id + 1
    return found if limit is None else found[:limit]
