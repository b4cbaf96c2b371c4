"""The PostgreSQL recorders: append-only triggers, LISTEN/NOTIFY that outlives a
restart, one schema creator at a time. Apart from infrastructure.eventstore so
that a SQLite store never imports psycopg (named there by topic)."""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from typing import Any

from eventsourcing.persistence import (
    ApplicationRecorder,
    IntegrityError,
    InterfaceError,
    ListenNotifySubscription,
    OperationalError,
    StoredEvent,
    Subscription,
)
from eventsourcing.postgres import (
    PostgresAggregateRecorder,
    PostgresApplicationRecorder,
    PostgresFactory,
)
from eventsourcing.utils import retry

from infrastructure.eventstore import APPEND_ONLY_MESSAGE, RECONNECT_INTERVAL, WakeOnCommit

#: Events of more bytes than this are inserted without psycopg's pipeline mode.
PIPELINED_BYTES = 1024 * 1024


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
            if sum(len(event.state) for event in stored_events) <= PIPELINED_BYTES:
                return super().insert_events(stored_events, **kwargs)
            ids = self._insert_unpipelined(stored_events, **kwargs)
            self.wake()
            return ids
        except IntegrityError:
            committed = self._already_committed(stored_events)
            if committed is None:
                raise  # another writer's events: a real concurrency conflict
            self.wake()
            return committed

    @retry((InterfaceError, OperationalError), max_attempts=10, wait=0.2)
    def _insert_unpipelined(
        self, stored_events: Sequence[StoredEvent], **kwargs: Any
    ) -> Sequence[int] | None:
        """The library's insert (table lock, NOTIFY, insert, ids) one statement at a
        time. In pipeline mode, psycopg 3.3 with eventsourcing 9.5 waited forever on
        a write of more than the socket's send buffer (4 MiB here) after the lock:
        the server waiting for the rest of the statement, the client for its result."""
        with (
            self.datastore.get_connection() as connection,
            connection.transaction(),
            connection.cursor() as cursor,
        ):
            self._insert_events(cursor, stored_events, **kwargs)
            self._insert_stored_events(cursor, stored_events, **kwargs)
            return self._fetch_ids_after_insert_events(cursor, stored_events, **kwargs)

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
