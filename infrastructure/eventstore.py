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
from collections.abc import Sequence
from typing import Any
from uuid import UUID

from eventsourcing.persistence import (
    ApplicationRecorder,
    ListenNotifySubscription,
    StoredEvent,
    Subscription,
)
from eventsourcing.sqlite import SQLiteApplicationRecorder, SQLiteCursor
from eventsourcing.utils import get_topic

from infrastructure.database import DatabaseUrl

SQLITE_EVENTS_TABLE = "stored_events"
POSTGRES_EVENTS_TABLE = "tradestate_events"
APPEND_ONLY_MESSAGE = "stored events are append-only"
POLL_INTERVAL = 0.2
RECONNECT_INTERVAL = 0.5
# The PostgreSQL recorders, by topic: psycopg is imported only for a PostgreSQL store.
POSTGRES_MODULE = "infrastructure.eventstore_postgres"


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
        # a mixin: the concrete recorder after it in the MRO implements insert_events
        ids = super().insert_events(stored_events, **kwargs)  # type: ignore[safe-super]  # mixin
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
            PERSISTENCE_MODULE=f"{POSTGRES_MODULE}:TradestatePostgresFactory",
            POSTGRES_DBNAME=p["dbname"],
            POSTGRES_HOST=p["host"],
            POSTGRES_PORT=p["port"],
            POSTGRES_USER=p["user"],
            POSTGRES_PASSWORD=p["password"],
            POSTGRES_SCHEMA=p["schema"],
            POSTGRES_LOCK_TIMEOUT="10",
            POSTGRES_POOL_SIZE="5",
            POSTGRES_MAX_OVERFLOW="20",
            APPLICATION_RECORDER_TOPIC=f"{POSTGRES_MODULE}:AppendOnlyPostgresRecorder",
        )
    else:
        raise ValueError(f"unsupported database URL {url.describe()}")
    return env


def events_table(url: DatabaseUrl) -> str:
    return SQLITE_EVENTS_TABLE if url.is_sqlite else POSTGRES_EVENTS_TABLE
