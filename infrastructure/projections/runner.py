"""ProjectionRunner: follows the event log for one projection.

Each batch reads the notifications the projection handles (a topic filter,
bounded by the head read before it), applies them through a SqlRowStore and
advances tracking in the same transaction. An event that fails stops the
runner at that event: everything before it is committed, the error is
recorded in `rm_tracking`, and nothing after it is skipped to.
"""

from __future__ import annotations

import threading
import zlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import structlog
from eventsourcing.persistence import ApplicationRecorder, Mapper, Notification
from sqlalchemy import Connection, Engine, func, select

from application.projections.base import Projection
from infrastructure.projections.store import Key, RowCache, RowFailed, SqlRowStore
from infrastructure.projections.tracking import (
    TrackingConflict,
    active_slot,
    advance,
    read_tracking,
    record_error,
)
from infrastructure.readmodels.tables import projection_tables

log = structlog.get_logger("tradestate.projections")


@dataclass(frozen=True)
class Change:
    """A read-model row a projection has just committed."""

    projection: str
    table: str
    row: dict[str, Any]
    sequence: int


Listener = Callable[[Change], None]
Written = tuple[Key, dict[str, Any]]


class _Failed(Exception):
    def __init__(self, index: int, cause: BaseException) -> None:
        super().__init__(str(cause))
        self.index = index
        self.cause = cause


class ProjectionRunner:
    def __init__(
        self,
        projection: type[Projection],
        engine: Engine,
        recorder: ApplicationRecorder,
        mapper: Mapper[Any],
        *,
        slot: str | None = None,
        page: int = 1000,
        on_commit: Listener | None = None,
        on_batch: Callable[[str, int, int], None] | None = None,
        until: int | None = None,
    ) -> None:
        self.projection_class = projection
        self.name = projection.name
        self.engine = engine
        self.recorder = recorder
        self.mapper = mapper
        self.fixed_slot = slot
        self.slot = slot or "a"
        self.page = page
        self.on_commit = on_commit
        self.on_batch = on_batch
        self.projection = projection()
        self.position = 0
        self.error: str | None = None
        self.topics = projection.topics()
        self.until = until
        self.cache = RowCache()

    def run_once(self) -> int:
        """Apply one batch; the number of notifications read (0 when caught up)."""
        if self.error is not None:
            return 0
        head = self.recorder.max_notification_id() or 0
        if self.until is not None:
            head = min(head, self.until)
        if head <= self.position:
            return 0  # idle: nothing new, no need to read slot or tracking
        with self.engine.connect() as connection:
            slot = self.fixed_slot or active_slot(connection, self.name)
            tracking = read_tracking(connection, self.name, slot)
        if slot != self.slot:
            log.info("projection switched slot", projection=self.name, slot=slot)
            self.slot, self.projection = slot, self.projection_class()
        start = tracking.position
        self.position = start
        if start >= head:
            return 0
        notifications = self.recorder.select_notifications(
            start, self.page, stop=head, topics=self.topics, inclusive_of_start=False
        )
        upto = notifications[-1].id if len(notifications) == self.page else head
        return self.apply_batch(notifications, upto, head)

    def apply_batch(self, notifications: Sequence[Notification], upto: int, head: int) -> int:
        """Apply, as one batch from `position` to `upto`, the notifications this
        projection handles in that range (read here or by a shared reader)."""
        start = self.position
        try:
            written = self._commit(notifications, upto)
        except TrackingConflict:
            with self.engine.connect() as connection:
                self.position = read_tracking(connection, self.name, self.slot).position
            return 1
        except _Failed as failed:
            self._stop_at(notifications, failed, start)
            return 0
        self.committed(written, upto, head)
        return max(len(notifications), 1)

    def stage(
        self, connection: Connection, notifications: Sequence[Notification], upto: int
    ) -> list[Written]:
        """Write the batch's rows and move tracking to `upto` in `connection`'s
        transaction; the caller commits, then calls `committed` (or `discard`)."""
        start = self.position
        if self.cache.valid_at != (self.slot, start):
            self.cache.clear()
        written = self._apply(connection, notifications)
        advance(connection, self.name, self.slot, start, upto)
        return written

    def committed(self, written: list[Written], upto: int, head: int) -> None:
        self.cache.committed(written, (self.slot, upto))
        self.position = upto
        self._publish(written, upto)
        if self.on_batch is not None:
            self.on_batch(self.name, upto, head)

    def discard(self) -> None:
        """Forget what a rolled-back batch did in memory (rows, projection state)."""
        self.cache.clear()
        self.projection = self.projection_class()

    def _commit(self, notifications: Sequence[Notification], upto: int) -> list[Written]:
        try:
            with self.engine.begin() as connection:
                return self.stage(connection, notifications, upto)
        except BaseException:
            self.discard()
            raise

    def _apply(
        self, connection: Connection, notifications: Sequence[Notification]
    ) -> list[Written]:
        store = SqlRowStore(
            connection, projection_tables(self.slot), self.projection.tables, self.cache
        )
        decodes = self.projection.decodes
        for index, notification in enumerate(notifications):
            store.index = index
            try:
                if decodes:
                    event = self.mapper.to_domain_event(notification)
                    self.projection.apply(event, notification.id, store)
                else:
                    self.projection.apply_raw(notification, store)
            except RowFailed as failed:
                raise _Failed(failed.index, failed.cause) from failed
            except Exception as error:
                raise _Failed(index, error) from error
        try:
            return store.flush()
        except RowFailed as failed:
            raise _Failed(failed.index, failed.cause) from failed

    def _stop_at(self, notifications: Sequence[Notification], failed: _Failed, start: int) -> None:
        bad = notifications[failed.index]
        if failed.index > 0:
            written = self._commit(notifications[: failed.index], bad.id - 1)
            self.cache.committed(written, (self.slot, bad.id - 1))
            self.position = bad.id - 1
            self._publish(written, self.position)
        elif bad.id - 1 > start:
            with self.engine.begin() as connection:
                advance(connection, self.name, self.slot, start, bad.id - 1)
            self.position = bad.id - 1
        self.error = f"event {bad.id} ({bad.topic}): {type(failed.cause).__name__}: {failed.cause}"
        record_error(self.engine, self.name, self.slot, bad.id, self.error)
        log.error("projection stopped at a failing event", projection=self.name, error=self.error)

    def _publish(self, written: list[Written], upto: int) -> None:
        if self.on_commit is None:
            return
        for (table, _key), row in written:
            sequence = row.get("as_of") or row.get("sequence") or upto
            self.on_commit(Change(self.name, table, row, sequence))

    def catch_up(self) -> None:
        while self.run_once():
            pass


class RunnerThread:
    """Runs a ProjectionRunner until stopped; with PostgreSQL, only while it
    holds the projection's advisory lock (one active runner per projection)."""

    def __init__(self, runner: ProjectionRunner, *, poll: float = 0.1, lock: bool = False):
        self.runner = runner
        self.poll = poll
        self.lock = lock
        self.wake = threading.Event()
        self.stopped = threading.Event()
        self.active = not lock
        self._lock_connection: Connection | None = None
        self.thread = threading.Thread(
            target=self._run, name=f"projection-{runner.name}", daemon=True
        )

    def start(self) -> None:
        self.thread.start()

    def stop(self) -> None:
        self.stopped.set()
        self.wake.set()
        self.thread.join(timeout=10)

    def _run(self) -> None:
        try:
            while not self.stopped.is_set():
                if not self._hold_lock():
                    self.stopped.wait(1.0)
                    continue
                try:
                    busy = self.runner.run_once()
                except Exception as error:  # database gone: keep trying, say so
                    log.warning(
                        "projection runner error", projection=self.runner.name, error=str(error)
                    )
                    self._release_lock()
                    self.stopped.wait(1.0)
                    continue
                if not busy:
                    self.wake.wait(self.poll)
                    self.wake.clear()
        finally:
            self._release_lock()

    def _hold_lock(self) -> bool:
        if not self.lock or self._lock_connection is not None:
            return True
        connection = self.runner.engine.connect()
        key = zlib.crc32(f"tradestate:projection:{self.runner.name}".encode())
        if connection.execute(select(func.pg_try_advisory_lock(key))).scalar():
            connection.commit()
            self._lock_connection = connection
            self.active = True
            log.info("projection runner active", projection=self.runner.name)
            return True
        connection.close()
        self.active = False
        return False

    def _release_lock(self) -> None:
        if self._lock_connection is not None:
            try:
                self._lock_connection.close()
            finally:
                self._lock_connection = None
                self.active = not self.lock
