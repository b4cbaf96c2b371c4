"""The log's notifications without their stored state: sequence, aggregate, version
and topic, and the state's size in bytes, read without reading the state.

A page of `events` that selects nothing decoded from the state reads headers only:
the state (a quote batch is about 1 MB) is neither read nor charged to the
response's byte budget. A page that does decode reads headers first, pays their
sizes from the budget, and only then reads the states of the rows that fit
(`log_states`): a document whose pages cannot fit is refused having read no state.
Both engines know a value's length without reading it: SQLite from the record
header, PostgreSQL from the TOAST pointer.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from eventsourcing.persistence import Notification
from eventsourcing.postgres import PostgresApplicationRecorder
from eventsourcing.sqlite import SQLiteApplicationRecorder

from infrastructure.eventlog import aggregate_notifications


@dataclass(frozen=True)
class Header(Notification):
    """A notification read without its state (`state` is empty); `size` is the
    stored state's length in bytes."""

    size: int = 0


def log_headers(
    recorder: Any,
    *,
    after: int,
    limit: int,
    stop: int,
    topics: Sequence[str] = (),
    aggregate: UUID | None = None,
) -> list[Header]:
    """Headers of the notifications with sequence in (after, stop], in order."""
    if isinstance(recorder, SQLiteApplicationRecorder):
        return _sqlite(recorder, after, limit, stop, topics, aggregate)
    if isinstance(recorder, PostgresApplicationRecorder):
        return _postgres(recorder, after, limit, stop, topics, aggregate)
    if aggregate is not None:  # other recorders (in-memory): read whole notifications
        found = aggregate_notifications(
            recorder, aggregate, after=after, limit=limit, topics=topics
        )
        return [_header(n) for n in found if n.id <= stop]
    return [
        _header(n)
        for n in recorder.select_notifications(after + 1, limit, stop=stop, topics=topics)
    ]


def log_states(recorder: Any, headers: Sequence[Header]) -> list[Notification]:
    """The whole notifications (states included) of `headers`, in their order."""
    if not headers:
        return []
    ids = [header.id for header in headers]
    if isinstance(recorder, SQLiteApplicationRecorder):
        statement = (
            f"SELECT rowid, state FROM {recorder.events_table_name}"
            f" WHERE rowid IN ({','.join('?' * len(ids))})"
        )
        with recorder.datastore.transaction(commit=False) as cursor:
            cursor.execute(statement, ids)
            states = {row["rowid"]: row["state"] for row in cursor.fetchall()}
    elif isinstance(recorder, PostgresApplicationRecorder):
        from psycopg.sql import SQL, Identifier

        query = SQL(
            "SELECT notification_id, state FROM {schema}.{table} WHERE notification_id = ANY(%s)"
        ).format(
            schema=Identifier(recorder.datastore.schema),
            table=Identifier(recorder.events_table_name),
        )
        with recorder.datastore.get_connection() as connection, connection.cursor() as cursor:
            cursor.execute(query, [ids])
            states = {row["notification_id"]: bytes(row["state"]) for row in cursor.fetchall()}
    else:
        found = recorder.select_notifications(ids[0], ids[-1] - ids[0] + 1, stop=ids[-1])
        states = {n.id: n.state for n in found}
    return [
        Notification(
            id=header.id,
            originator_id=header.originator_id,
            originator_version=header.originator_version,
            topic=header.topic,
            state=states[header.id],
        )
        for header in headers
    ]


def _header(notification: Notification) -> Header:
    return Header(
        id=notification.id,
        originator_id=notification.originator_id,
        originator_version=notification.originator_version,
        topic=notification.topic,
        state=b"",
        size=len(notification.state),
    )


def _sqlite(
    recorder: SQLiteApplicationRecorder,
    after: int,
    limit: int,
    stop: int,
    topics: Sequence[str],
    aggregate: UUID | None,
) -> list[Header]:
    statement = (
        "SELECT rowid, originator_id, originator_version, topic, length(state) AS size "
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
            Header(
                id=row["rowid"],
                originator_id=UUID(row["originator_id"]),
                originator_version=row["originator_version"],
                topic=row["topic"],
                state=b"",
                size=row["size"],
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
) -> list[Header]:
    from psycopg.sql import SQL, Identifier

    statement = SQL(
        "SELECT notification_id, originator_id, originator_version, topic,"
        " octet_length(state) AS size FROM {schema}.{table}"
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
            Header(
                id=row["notification_id"],
                originator_id=row["originator_id"],
                originator_version=row["originator_version"],
                topic=row["topic"],
                state=b"",
                size=row["size"],
            )
            for row in cursor.fetchall()
        ]
