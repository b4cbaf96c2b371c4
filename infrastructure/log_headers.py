"""The log's notifications without their stored state: sequence, aggregate, version
and topic, for a page of `events` that selects nothing decoded from the state. The
state (a quote batch is about 1 MB) is neither read nor charged to the response's
byte budget."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from uuid import UUID

from eventsourcing.persistence import Notification
from eventsourcing.postgres import PostgresApplicationRecorder
from eventsourcing.sqlite import SQLiteApplicationRecorder

from infrastructure.eventlog import aggregate_notifications


def log_headers(
    recorder: Any,
    *,
    after: int,
    limit: int,
    stop: int,
    topics: Sequence[str] = (),
    aggregate: UUID | None = None,
) -> list[Notification]:
    """Notifications with sequence in (after, stop], in order, with empty states."""
    if isinstance(recorder, SQLiteApplicationRecorder):
        return _sqlite(recorder, after, limit, stop, topics, aggregate)
    if isinstance(recorder, PostgresApplicationRecorder):
        return _postgres(recorder, after, limit, stop, topics, aggregate)
    if aggregate is not None:  # other recorders (in-memory): read whole notifications
        found = aggregate_notifications(
            recorder, aggregate, after=after, limit=limit, topics=topics
        )
        return [n for n in found if n.id <= stop]
    return list(recorder.select_notifications(after + 1, limit, stop=stop, topics=topics))


def _sqlite(
    recorder: SQLiteApplicationRecorder,
    after: int,
    limit: int,
    stop: int,
    topics: Sequence[str],
    aggregate: UUID | None,
) -> list[Notification]:
    statement = (
        "SELECT rowid, originator_id, originator_version, topic "
        f"FROM {recorder.events_table_name} WHERE rowid > ? AND rowid <= ?"
    )
    params: list[Any] = [after, stop]
    if topics:
        statement += f" AND topic IN ({','.join('?' * len(topics))})"
        params += list(topics)
    if aggregate is not None:
        statement += " AND originator_id = ? ORDER BY originator_version"
        params.append(aggregate.hex)
    else:
        statement += " ORDER BY rowid"
    statement += " LIMIT ?"
    params.append(limit)
    with recorder.datastore.transaction(commit=False) as cursor:
        cursor.execute(statement, params)
        return [
            Notification(
                id=row["rowid"],
                originator_id=UUID(row["originator_id"]),
                originator_version=row["originator_version"],
                topic=row["topic"],
                state=b"",
            )
            for row in cursor.fetchall()
        ]


def _postgres(
    recorder: PostgresApplicationRecorder,
    after: int,
    limit: int,
    stop: int,
    topics: Sequence[str],
    aggregate: UUID | None,
) -> list[Notification]:
    from psycopg.sql import SQL, Identifier

    statement = SQL(
        "SELECT notification_id, originator_id, originator_version, topic FROM {schema}.{table}"
        " WHERE notification_id > %s AND notification_id <= %s"
    ).format(
        schema=Identifier(recorder.datastore.schema),
        table=Identifier(recorder.events_table_name),
    )
    params: list[Any] = [after, stop]
    if topics:
        statement += SQL(" AND topic = ANY(%s)")
        params.append(list(topics))
    if aggregate is not None:
        statement += SQL(" AND originator_id = %s ORDER BY originator_version")
        params.append(aggregate)
    else:
        statement += SQL(" ORDER BY notification_id")
    statement += SQL(" LIMIT %s")
    params.append(limit)
    with recorder.datastore.get_connection() as connection, connection.cursor() as cursor:
        cursor.execute(statement, params)
        return [
            Notification(
                id=row["notification_id"],
                originator_id=row["originator_id"],
                originator_version=row["originator_version"],
                topic=row["topic"],
                state=b"",
            )
            for row in cursor.fetchall()
        ]
