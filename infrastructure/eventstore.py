"""Event store configuration on eventsourcing's SQLite and PostgreSQL recorders.

Two additions to the library's recorders:
- append-only is enforced by the database: triggers refuse UPDATE and DELETE
  on stored events (both engines);
- SQLite gets the `subscribe()` the library leaves out: committed inserts in
  this process wake subscribers at once, and a short poll picks up other
  processes' commits (PostgreSQL uses the library's LISTEN/NOTIFY).
"""

from __future__ import annotations

import threading
import weakref
from collections.abc import Callable, Sequence
from typing import Any
from uuid import UUID

from eventsourcing.persistence import (
    ApplicationRecorder,
    IntegrityError,
    ListenNotifySubscription,
    StoredEvent,
    Subscription,
)
from eventsourcing.postgres import (
    PostgresAggregateRecorder,
    PostgresApplicationRecorder,
    PostgresFactory,
)
from eventsourcing.sqlite import SQLiteApplicationRecorder, SQLiteCursor
from eventsourcing.utils import get_topic

from infrastructure.database import DatabaseUrl

SQLITE_EVENTS_TABLE = "stored_events"
POSTGRES_EVENTS_TABLE = "tradestate_events"
APPEND_ONLY_MESSAGE = "stored events are append-only"
POLL_INTERVAL = 0.2
RECONNECT_INTERVAL = 0.5


class WakeOnCommit(ApplicationRecorder):
    """Sets registered events after each committed insert: in-process wake-ups
    for subscribers and projection runners, without polling."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._waiters: weakref.WeakSet[threading.Event] = weakref.WeakSet()
        self._waiters_lock = threading.Lock()

    def first_sequence(self, originator_id: UUID) -> int | None:
        """The sequence of the aggregate's first event, by the store's index."""
        from infrastructure.eventlog import aggregate_notifications

        found = aggregate_notifications(self, originator_id, limit=1)
        return found[0].id if found else None

    def last_sequence(self, originator_id: UUID, topics: Sequence[str]) -> int | None:
        """The sequence of the aggregate's latest event of one of `topics`."""
        from infrastructure.eventlog import aggregate_notifications

        found = aggregate_notifications(
            self, originator_id, limit=1, topics=topics, newest_first=True
        )
        return found[0].id if found else None

    def insert_events(
        self, stored_events: Sequence[StoredEvent], **kwargs: Any
    ) -> Sequence[int] | None:
        ids = super().insert_events(stored_events, **kwargs)
        self.wake()
        return ids

    def wake(self) -> None:
        """Tell this process's waiters that new events are committed."""
        with self._waiters_lock:
            waiters = list(self._waiters)
        for waiter in waiters:
            waiter.set()

    def add_waiter(self, waiter: threading.Event) -> None:
        with self._waiters_lock:
            self._waiters.add(waiter)


class AppendOnlySQLiteRecorder(WakeOnCommit, SQLiteApplicationRecorder):
    """SQLite recorder with append-only triggers and an in-process subscription."""

    def construct_create_table_statements(self) -> list[str]:
        table = self.events_table_name
        guard = f"SELECT RAISE(ABORT, '{APPEND_ONLY_MESSAGE}');"
        return [
            *super().construct_create_table_statements(),
            f"CREATE TRIGGER IF NOT EXISTS {table}_no_update BEFORE UPDATE ON {table} "
            f"BEGIN {guard} END",
            f"CREATE TRIGGER IF NOT EXISTS {table}_no_delete BEFORE DELETE ON {table} "
            f"BEGIN {guard} END",
        ]

    def subscribe(
        self, gt: int | None = None, topics: Sequence[str] = ()
    ) -> Subscription[ApplicationRecorder]:
        return SQLiteSubscription(recorder=self, gt=gt, topics=topics)

    def _max_notification_id(self, c: SQLiteCursor) -> int:
        return super()._max_notification_id(c) or 0


class SQLiteSubscription(ListenNotifySubscription[AppendOnlySQLiteRecorder]):
    """Woken by this process's commits; polls for other processes' commits."""

    def __init__(
        self, recorder: AppendOnlySQLiteRecorder, gt: int | None = None, topics: Sequence[str] = ()
    ) -> None:
        super().__init__(recorder=recorder, gt=gt, topics=topics)
        recorder.add_waiter(self._has_been_notified)
        self._poll_thread = threading.Thread(target=self._poll, daemon=True)
        self._poll_thread.start()

    def _poll(self) -> None:
        while not self._has_been_stopped:
            self._has_been_notified.set()
            threading.Event().wait(POLL_INTERVAL)

    def __exit__(self, *args: object, **kwargs: Any) -> None:
        try:
            super().__exit__(*args, **kwargs)
        finally:
            self._poll_thread.join()


class OneSchemaCreatorAtATime:
    """Processes starting together would create the tables, types and functions at
    once, and PostgreSQL answers with "tuple concurrently updated" or a duplicate
    pg_type row: one process at a time, under a session advisory lock."""

    datastore: Any

    def create_table(self) -> None:
        key = f"tradestate-schema:{self.datastore.schema}"
        with self.datastore.get_connection() as connection:
            connection.execute("SELECT pg_advisory_lock(hashtext(%s))", (key,))
            try:
                super().create_table()  # type: ignore[misc]
            finally:
                connection.execute("SELECT pg_advisory_unlock(hashtext(%s))", (key,))


class SnapshotPostgresRecorder(OneSchemaCreatorAtATime, PostgresAggregateRecorder):
    """The snapshot store's recorder."""


class AppendOnlyPostgresRecorder(
    OneSchemaCreatorAtATime, WakeOnCommit, PostgresApplicationRecorder
):
    """PostgreSQL recorder with triggers refusing UPDATE and DELETE on events."""

    def insert_events(
        self, stored_events: Sequence[StoredEvent], **kwargs: Any
    ) -> Sequence[int] | None:
        """Insert; when the connection broke after the commit, the library's retry
        meets this very write in the table: answer with its sequences, not an error."""
        try:
            return super().insert_events(stored_events, **kwargs)
        except IntegrityError:
            committed = self._already_committed(stored_events)
            if committed is None:
                raise  # another writer's events: a real concurrency conflict
            self.wake()
            return committed

    def _already_committed(self, stored_events: Sequence[StoredEvent]) -> list[int] | None:
        """The sequences of these exact events (same ids, versions, topics and bytes,
        timestamps included) if all of them are stored, else None."""
        from psycopg.sql import SQL, Identifier

        statement = SQL(
            "SELECT notification_id, topic, state FROM {schema}.{table} "
            "WHERE originator_id = %s AND originator_version = %s"
        ).format(schema=Identifier(self.datastore.schema), table=Identifier(self.events_table_name))
        ids = []
        with self.datastore.get_connection() as connection:
            for event in stored_events:
                row = connection.execute(
                    statement, (event.originator_id, event.originator_version)
                ).fetchone()
                if row is None or (row["topic"], bytes(row["state"])) != (event.topic, event.state):
                    return None
                ids.append(int(row["notification_id"]))
        return ids

    def listen_for_commits(
        self, stopped: threading.Event, on_notify: Callable[[], None] | None = None
    ) -> None:
        """Call `on_notify` (default: wake this process's waiters) on every commit of
        any process (LISTEN/NOTIFY), and once after each (re)connection, for commits
        made while not listening; returns when `stopped` is set. The library's insert
        sends the NOTIFY."""
        from psycopg.sql import SQL, Identifier

        notify = on_notify or self.wake
        while not stopped.is_set():
            try:
                with self.datastore.get_connection() as connection:
                    connection.execute(SQL("LISTEN {0}").format(Identifier(self.channel_name)))
                    notify()
                    while not stopped.is_set():
                        for _ in connection.notifies(timeout=0.5, stop_after=1):
                            notify()
            except Exception:  # server restart: listen again once it is back
                stopped.wait(RECONNECT_INTERVAL)

    def subscribe(
        self, gt: int | None = None, topics: Sequence[str] = ()
    ) -> Subscription[ApplicationRecorder]:
        return ReconnectingPostgresSubscription(recorder=self, gt=gt, topics=topics)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        from psycopg.sql import SQL, Identifier, Literal

        schema = Identifier(self.datastore.schema)
        table = Identifier(self.events_table_name)
        function = Identifier(f"{self.events_table_name}_append_only")
        self.sql_create_statements.extend(
            [
                SQL(
                    "CREATE OR REPLACE FUNCTION {schema}.{function}() RETURNS trigger "
                    "LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION {message}; END $$"
                ).format(schema=schema, function=function, message=Literal(APPEND_ONLY_MESSAGE)),
                # Only when missing: CREATE TRIGGER locks the events table against
                # inserts, and every process start runs these statements.
                SQL(
                    "DO $$ BEGIN "
                    "IF NOT EXISTS (SELECT 1 FROM pg_trigger WHERE tgname = {guard_name} "
                    "AND tgrelid = {relation}::regclass) THEN "
                    "CREATE TRIGGER {guard} BEFORE UPDATE OR DELETE ON {schema}.{table} "
                    "FOR EACH STATEMENT EXECUTE FUNCTION {schema}.{function}(); "
                    "CREATE TRIGGER {truncate} BEFORE TRUNCATE ON {schema}.{table} "
                    "FOR EACH STATEMENT EXECUTE FUNCTION {schema}.{function}(); "
                    "END IF; END $$"
                ).format(
                    guard_name=Literal(f"{self.events_table_name}_append_only"),
                    relation=Literal(f"{self.datastore.schema}.{self.events_table_name}"),
                    guard=Identifier(f"{self.events_table_name}_append_only"),
                    truncate=Identifier(f"{self.events_table_name}_no_truncate"),
                    schema=schema,
                    table=table,
                    function=function,
                ),
            ]
        )


class ReconnectingPostgresSubscription(ListenNotifySubscription[AppendOnlyPostgresRecorder]):
    """LISTEN/NOTIFY that outlives a database restart.

    The library's PostgreSQL subscription ends at the first database error, which
    leaves a log follower (and every `events` subscriber) silently stalled after a
    server restart. This one listens again, and reads again from the last
    notification it handed over, so its stream has no gap and no duplicate."""

    def __init__(
        self,
        recorder: AppendOnlyPostgresRecorder,
        gt: int | None = None,
        topics: Sequence[str] = (),
    ) -> None:
        self._stopped = threading.Event()  # before the pull thread starts using it
        super().__init__(recorder=recorder, gt=gt, topics=topics)
        self._listen_thread = threading.Thread(
            target=recorder.listen_for_commits,
            args=(self._stopped, self._has_been_notified.set),
            daemon=True,
        )
        self._listen_thread.start()

    def stop(self) -> None:
        self._stopped.set()
        super().stop()

    def __exit__(self, *args: object, **kwargs: Any) -> None:
        try:
            super().__exit__(*args, **kwargs)
        finally:
            self._listen_thread.join()

    def _loop_on_pull(self) -> None:
        while not self._has_been_stopped:
            try:
                self._pull()
            except Exception:  # the database is away: read again from the last id
                self._stopped.wait(RECONNECT_INTERVAL)
                continue
            self._has_been_notified.wait()


class TradestatePostgresFactory(PostgresFactory):
    """The library's PostgreSQL factory with our recorders (snapshots included)."""

    aggregate_recorder_class = SnapshotPostgresRecorder
    application_recorder_class = AppendOnlyPostgresRecorder


def event_store_env(url: DatabaseUrl, *, cache_size: int = 10_000) -> dict[str, str]:
    """The eventsourcing environment for an Application on this database."""
    env = {
        "AGGREGATE_CACHE_MAXSIZE": str(cache_size),
        "IS_SNAPSHOTTING_ENABLED": "y",
        "CREATE_TABLE": "y",
    }
    if url.is_sqlite:
        env.update(
            PERSISTENCE_MODULE="eventsourcing.sqlite",
            SQLITE_DBNAME=url.sqlite_path,
            SQLITE_LOCK_TIMEOUT="30",
            APPLICATION_RECORDER_TOPIC=get_topic(AppendOnlySQLiteRecorder),
        )
    elif url.is_postgres:
        p = url.postgres_params()
        env.update(
            PERSISTENCE_MODULE=get_topic(TradestatePostgresFactory),
            POSTGRES_DBNAME=p["dbname"],
            POSTGRES_HOST=p["host"],
            POSTGRES_PORT=p["port"],
            POSTGRES_USER=p["user"],
            POSTGRES_PASSWORD=p["password"],
            POSTGRES_SCHEMA=p["schema"],
            POSTGRES_LOCK_TIMEOUT="10",
            POSTGRES_POOL_SIZE="5",
            POSTGRES_MAX_OVERFLOW="20",
            APPLICATION_RECORDER_TOPIC=get_topic(AppendOnlyPostgresRecorder),
        )
    else:
        raise ValueError(f"unsupported database URL {url.describe()}")
    return env


def events_table(url: DatabaseUrl) -> str:
    return SQLITE_EVENTS_TABLE if url.is_sqlite else POSTGRES_EVENTS_TABLE
