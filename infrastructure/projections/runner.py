"""ProjectionRunner: follows the event log for one projection.

Each batch reads the notifications the projection handles (a topic filter,
bounded by the head read before it), applies them through a SqlRowStore and
advances tracking in the same transaction. An event that fails stops the
runner at that event: everything before it is committed, the error is
recorded in `rm_tracking`, and nothing after it is skipped to.

Between batches the runner trusts what it knows of its slot and tracking
(it is their only writer; the compare-and-set says when it is not). Events
it does not handle move its position in memory only, which is what lag and
read-your-writes read; tracking catches up at most every `persist_every`
seconds, with its next batch, or at stop: re-reading a few ignored events
after a crash is harmless, one write transaction per runner per event is not.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import structlog
from eventsourcing.persistence import ApplicationRecorder, Mapper, Notification
from sqlalchemy import Connection, Engine

from application.projections.base import Projection
from infrastructure.metrics import PROJECTION_EVENTS_APPLIED
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


@dataclass(frozen=True)
class Window:
    """Every notification after `start` up to `head`, whatever its topic: what is new
    in the log, read once for all of a process's runners (see LogTail)."""

    start: int
    head: int
    notifications: Sequence[Notification]


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
        on_tracked: Callable[[str, int, int], None] | None = None,
        until: int | None = None,
        persist_every: float = 1.0,
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
        # (name, after, upto): tracking moved from `after` to `upto` by this runner's
        # compare-and-set, and every row it wrote in between went to `on_commit`.
        self.on_tracked = on_tracked
        self.projection = projection()
        self.position = 0  # every event it handles up to here is applied (lag, read-your-writes)
        self.persisted = 0  # its tracking row, as this runner last wrote or read it
        self.persist_every = persist_every
        self.checked: float | None = None  # when slot and tracking were last confirmed
        self.error: str | None = None
        self.topics = projection.topics()
        self._handles = frozenset(self.topics)
        self.until = until
        self.cache = RowCache()
        self.staged = 0  # events handled by the batch staged and not yet committed
        self.applied_total = PROJECTION_EVENTS_APPLIED.labels(self.name)
        self.running = threading.Lock()  # held by whoever runs it, so `skip` keeps out

    def skip(self, window: Window) -> bool:
        """Move the position over `window` if it holds nothing this projection handles
        after the position: True if there is nothing to run. For another thread (the
        follower), so that a commit does not wake every runner; False when the runner
        is running, behind the window, or not yet sure of its slot and tracking."""
        if not self.running.acquire(blocking=False):
            return False
        try:
            if self.error is not None:
                return True
            if self.checked is None or self.until is not None or self.position < window.start:
                return False
            if self._handled(window):
                return False
            self.position = max(self.position, window.head)
            return True
        finally:
            self.running.release()

    def run_once(self, window: Window | None = None) -> int:
        """Apply one batch; the number of notifications read (0 when caught up).

        With `window` (the log as last read for every runner) it reads nothing
        itself when the window covers its position."""
        if self.error is not None:
            return 0
        if self.checked is None:
            self.sync()
        for view in (window, None):
            try:
                return self._step(view)
            except TrackingConflict:
                self.sync()  # another runner moved on, or a swap: go on from there
        return 1

    def _step(self, window: Window | None) -> int:
        if window is None or self.until is not None:
            head = self.recorder.max_notification_id() or 0
            window = None
        else:
            head = window.head
        if self.until is not None:
            head = min(head, self.until)
        if head <= self.position:
            self.keep_up()
            return 0
        if window is not None and window.start <= self.position:
            notifications: Sequence[Notification] = self._handled(window)
            upto = head
        else:
            notifications = self.recorder.select_notifications(
                self.position, self.page, stop=head, topics=self.topics, inclusive_of_start=False
            )
            upto = notifications[-1].id if len(notifications) == self.page else head
        if not notifications:
            self.position = upto  # tracking follows in keep_up
            self.keep_up()
            return 0
        return self._apply_batch(notifications, upto, head)

    def _handled(self, window: Window) -> list[Notification]:
        """The notifications of `window` after the position that this projection handles."""
        handles, position = self._handles, self.position
        return [
            n
            for n in window.notifications
            if n.id > position and (not handles or n.topic in handles)
        ]

    def sync(self) -> None:
        """Read the active slot and tracking: at start, after a conflict, an error or a
        swap (by a rebuild, here or elsewhere)."""
        with self.engine.connect() as connection:
            slot = self.fixed_slot or active_slot(connection, self.name)
            tracking = read_tracking(connection, self.name, slot)
        if (slot, tracking.position) != (self.slot, self.persisted):
            if slot != self.slot:
                log.info("projection switched slot", projection=self.name, slot=slot)
            self.slot = slot
            self.discard()
            self.position = self.persisted = tracking.position
        self.checked = time.monotonic()

    def keep_up(self) -> None:
        """Every `persist_every` seconds: write the position reached through ignored
        events to tracking (its compare-and-set confirms the slot too), or, with
        nothing to write, make sure the slot is still the active one."""
        if self.checked is not None and time.monotonic() - self.checked < self.persist_every:
            return
        if self.position > self.persisted:
            self.flush()
        elif self.fixed_slot is not None or self._slot_unchanged():
            self.checked = time.monotonic()
        else:
            self.sync()

    def _slot_unchanged(self) -> bool:
        with self.engine.connect() as connection:
            return active_slot(connection, self.name) == self.slot

    def flush(self) -> None:
        """Write the position reached through ignored events to tracking now."""
        if self.position <= self.persisted:
            return
        try:
            with self.engine.begin() as connection:
                self._advance(connection, self.position)
        except TrackingConflict:
            self.sync()
            return
        if self.cache.valid_at == (self.slot, self.persisted):
            self.cache.valid_at = (self.slot, self.position)
        self._tracked(self.persisted, self.position)
        self.persisted = self.position
        self.checked = time.monotonic()

    def forget(self) -> None:
        """Trust nothing in memory until slot and tracking are read again."""
        self.discard()
        self.checked = None

    def _advance(self, connection: Connection, upto: int) -> None:
        advance(
            connection, self.name, self.slot, self.persisted, upto, live=self.fixed_slot is None
        )

    def apply_batch(self, notifications: Sequence[Notification], upto: int, head: int) -> int:
        """Apply, as one batch from `position` to `upto`, the notifications this
        projection handles in that range (read here or by a shared reader)."""
        try:
            return self._apply_batch(notifications, upto, head)
        except TrackingConflict:
            self.sync()
            return 1

    def _apply_batch(self, notifications: Sequence[Notification], upto: int, head: int) -> int:
        try:
            written = self._commit(notifications, upto)
        except _Failed as failed:
            self._stop_at(notifications, failed)
            return 0
        self.committed(written, upto, head)
        return max(len(notifications), 1)

    def stage(
        self,
        connection: Connection,
        notifications: Sequence[Notification],
        upto: int,
        decoded: Mapping[int, Any] | None = None,
    ) -> list[Written]:
        """Write the batch's rows and move tracking to `upto` in `connection`'s
        transaction; the caller commits, then calls `committed` (or `discard`).
        `decoded` holds events already decoded by notification id (a shared reader
        decodes each once for every runner; events are immutable)."""
        if self.cache.valid_at != (self.slot, self.persisted):
            self.cache.clear()
        written = self._apply(connection, notifications, decoded)
        self._advance(connection, upto)
        self.staged = len(notifications)
        return written

    def committed(self, written: list[Written], upto: int, head: int) -> None:
        self.cache.committed(written, (self.slot, upto))
        self.applied_total.inc(self.staged)
        self.staged = 0
        after = self.persisted
        self.position = self.persisted = upto
        self.checked = time.monotonic()
        self._publish(written, upto)
        self._tracked(after, upto)
        if self.on_batch is not None:
            self.on_batch(self.name, upto, head)

    def discard(self) -> None:
        """Forget what a rolled-back batch did in memory (rows, projection state)."""
        self.cache.clear()
        self.projection = self.projection_class()
        self.staged = 0

    def _commit(self, notifications: Sequence[Notification], upto: int) -> list[Written]:
        try:
            with self.engine.begin() as connection:
                return self.stage(connection, notifications, upto)
        except BaseException:
            self.discard()
            raise

    def _apply(
        self,
        connection: Connection,
        notifications: Sequence[Notification],
        decoded: Mapping[int, Any] | None = None,
    ) -> list[Written]:
        store = SqlRowStore(
            connection, projection_tables(self.slot), self.projection.tables, self.cache
        )
        handlers: dict[type[Any], Callable[[Any, int, SqlRowStore], None]] = {}
        for index, notification in enumerate(notifications):
            store.index = index
            try:
                event = decoded.get(notification.id) if decoded else None
                if event is None:
                    event = self.mapper.to_domain_event(notification)
                handler = handlers.get(event.__class__)
                if handler is None:
                    handler = handlers[event.__class__] = self.projection.handler(event.__class__)
                handler(event, notification.id, store)
            except RowFailed as failed:
                raise _Failed(failed.index, failed.cause) from failed
            except Exception as error:
                raise _Failed(index, error) from error
        try:
            return store.flush()
        except RowFailed as failed:
            raise _Failed(failed.index, failed.cause) from failed

    def _stop_at(self, notifications: Sequence[Notification], failed: _Failed) -> None:
        bad = notifications[failed.index]
        after = self.persisted
        if failed.index > 0:
            written = self._commit(notifications[: failed.index], bad.id - 1)
            self.cache.committed(written, (self.slot, bad.id - 1))
            self.position = self.persisted = bad.id - 1
            self._publish(written, self.position)
            self._tracked(after, self.position)
        elif bad.id - 1 > self.persisted:
            with self.engine.begin() as connection:
                self._advance(connection, bad.id - 1)
            self.position = self.persisted = bad.id - 1
            self._tracked(after, self.position)
        self.error = f"event {bad.id} ({bad.topic}): {type(failed.cause).__name__}: {failed.cause}"
        record_error(self.engine, self.name, self.slot, bad.id, self.error)
        log.error("projection stopped at a failing event", projection=self.name, error=self.error)

    def _publish(self, written: list[Written], upto: int) -> None:
        if self.on_commit is None:
            return
        for (table, _key), row in written:
            sequence = row.get("as_of") or row.get("sequence") or upto
            self.on_commit(Change(self.name, table, row, sequence))

    def _tracked(self, after: int, upto: int) -> None:
        if self.on_tracked is not None and upto > after:
            self.on_tracked(self.name, after, upto)

    def catch_up(self) -> None:
        while self.run_once():
            pass
        self.flush()
