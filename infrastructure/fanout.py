"""Notification fan-out: one read of the log per process, bounded buffers per subscriber.

`EventHub` takes each new notification from the projections' `LogTail` when they
run in this process (one read of the log per commit for both), or else runs a
`LogTail` of its own (application/follow.py: in-process wake-up plus polling on
SQLite, LISTEN/NOTIFY on PostgreSQL); either way events written by any process
arrive. It hands them to the asyncio loop (`LoopHandOff`, shared with
`ChangeHub`),
which offers each to every subscriber's bounded buffer. Nothing a subscriber
does can block the follower, the writers or the other subscribers: a subscriber
whose buffer is full is dropped and told so (`Overflowed`), and resumes from the
log with its last sequence.

`EventHub.follow(after)` is the gap-free, duplicate-free stream of
`events(after: N)`: it reads the stored events page by page, and joins the
live stream only when the follower has not run past what it read (checked and
joined in one step on the loop thread, so nothing can slip in between).

`ChangeHub` fans projection changes (called from the runner thread after the
read model committed) out to conflating buffers: per key, the latest row wins.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections import deque
from collections.abc import AsyncIterator, Callable, Hashable, Sequence
from dataclasses import dataclass, field
from typing import Any, Generic, Protocol, TypeVar

import anyio

from infrastructure.logging import get_logger
from infrastructure.pages import ByteBudget, OverBudget, read_page, stored_bytes
from infrastructure.projections.threads import LogTail

log = get_logger(__name__)

PAGE_SIZE = 500
T = TypeVar("T")


class Overflowed(Exception):
    """A subscriber's buffer overflowed; it was closed and should resume from the log."""

    def __init__(self, message: str, last_sequence: int | None = None) -> None:
        super().__init__(message)
        self.last_sequence = last_sequence


class WindowSource(Protocol):
    """What hands out the log as read (infrastructure/projections/threads.py's LogTail)."""

    listeners: list[Callable[[Any], None]]


class LoopHandOff(Generic[T]):
    """Items put from any thread, dispatched on the asyncio loop in batches: one
    `call_soon_threadsafe` per batch, however many items arrive meanwhile."""

    def __init__(self, dispatch: Callable[[list[T]], None]) -> None:
        self.dispatch = dispatch
        self.loop: asyncio.AbstractEventLoop | None = None
        self._pending: deque[T] = deque()
        self._lock = threading.Lock()
        self._scheduled = False

    def start(self) -> None:
        """Dispatch on the running loop (call on it)."""
        self.loop = asyncio.get_running_loop()

    def put(self, items: Sequence[T]) -> None:
        with self._lock:
            self._pending.extend(items)
            if self._scheduled or self.loop is None:
                return
            self._scheduled = True
        # RuntimeError: the loop closed under us at shutdown.
        with contextlib.suppress(RuntimeError):
            self.loop.call_soon_threadsafe(self._run)

    def _run(self) -> None:
        with self._lock:
            batch = list(self._pending)
            self._pending.clear()
            self._scheduled = False
        self.dispatch(batch)


class Recorder(Protocol):
    def max_notification_id(self) -> int | None: ...

    def select_notifications(
        self,
        start: int | None,
        limit: int,
        stop: int | None = None,
        topics: Sequence[str] = (),
        *,
        inclusive_of_start: bool = True,
    ) -> Sequence[Any]: ...


@dataclass
class LogEntry:
    """One notification, decoded at most once however many subscribers take it."""

    notification: Any
    decode: Callable[[Any], Any]
    _decoded: Any = field(default=None, repr=False)
    _done: bool = field(default=False, repr=False)

    @property
    def sequence(self) -> int:
        return int(self.notification.id)

    @property
    def value(self) -> Any:
        if not self._done:
            self._decoded = self.decode(self.notification)
            self._done = True
        return self._decoded


class _Buffer:
    """A subscriber's FIFO, bounded in entries and in stored bytes (one entry is
    always taken), filled on the loop thread."""

    def __init__(self, accept: Callable[[Any], bool], size: int, max_bytes: int) -> None:
        self.accept = accept
        self.size = size
        self.max_bytes = max_bytes
        self.bytes = 0
        self.items: deque[LogEntry] = deque()
        self.ready = asyncio.Event()
        self.overflowed = False

    def offer(self, entry: LogEntry) -> bool:
        """Queue the entry if it is wanted; False when the buffer is full."""
        if not self.accept(entry.notification):
            return True
        size = stored_bytes(entry.notification)
        if len(self.items) >= self.size or (self.items and self.bytes + size > self.max_bytes):
            self.overflowed = True
            self.items.clear()  # the subscriber is closed: what waited goes with it
            self.bytes = 0
            self.ready.set()
            return False
        self.items.append(entry)
        self.bytes += size
        self.ready.set()
        return True

    def take(self) -> LogEntry:
        entry = self.items.popleft()
        self.bytes -= stored_bytes(entry.notification)
        return entry


class EventHub:
    """Fans new notifications (read by a LogTail) out on the loop."""

    def __init__(
        self,
        recorder: Recorder,
        decode: Callable[[Any], Any],
        *,
        buffer_size: int = 1_000,
        buffer_bytes: int = 16 * 1024 * 1024,
        page_bytes: int = 1024 * 1024,
        on_overflow: Callable[[], None] | None = None,
    ) -> None:
        self.recorder = recorder
        self.decode = decode
        self.buffer_size = buffer_size
        self.buffer_bytes = buffer_bytes
        self.page_bytes = page_bytes
        self.on_overflow = on_overflow
        self.dispatched = 0
        self._buffers: set[_Buffer] = set()
        self._hand_off: LoopHandOff[LogEntry] = LoopHandOff(self._dispatch)
        self._source: WindowSource | None = None
        self._tail: LogTail | None = None  # our own, when the projections run elsewhere

    @property
    def subscriber_count(self) -> int:
        return len(self._buffers)

    def start(self, tail: WindowSource | None = None) -> None:
        """Start following from the current head; call on the serving loop. With the
        projections' running `tail`, take its reads of the log rather than read the
        log a second time; otherwise run a LogTail of our own."""
        self._hand_off.start()
        own = None
        if tail is None:
            tail = own = LogTail(self.recorder)  # type: ignore[arg-type]  # a recorder's subset
        # Listen first, then read the head: nothing after the head can be missed
        # (what the tail hands over at or below it is skipped by `dispatched`).
        self._source = tail
        tail.listeners.append(self._take_window)
        self.dispatched = self.recorder.max_notification_id() or 0
        if own is not None:
            own.start_at(self.dispatched)
            self._tail = own

    def stop(self) -> None:
        if self._source is not None:
            with contextlib.suppress(ValueError):
                self._source.listeners.remove(self._take_window)
        if self._tail is not None:
            self._tail.stop(timeout=5)

    def _take_window(self, window: Any) -> None:
        entries = [LogEntry(notification, self.decode) for notification in window.notifications]
        if not entries:
            return
        if self._buffers:
            # Decode here, on the tail's thread, not on the loop, which serves
            # every request meanwhile (a quote batch takes tens of milliseconds).
            for entry in entries:
                with contextlib.suppress(Exception):  # the loop raises it to subscribers
                    _ = entry.value
        self._hand_off.put(entries)

    def _dispatch(self, batch: list[LogEntry]) -> None:
        for entry in batch:
            if entry.sequence <= self.dispatched:
                continue
            for buffer in list(self._buffers):
                if not buffer.offer(entry):
                    self._buffers.discard(buffer)
                    if self.on_overflow is not None:
                        self.on_overflow()
            self.dispatched = entry.sequence

    def _read(self, after: int, topics: Sequence[str]) -> tuple[list[LogEntry], int]:
        """Stored notifications after `after` (one page, bounded in rows and in bytes:
        a catch-up holds one page at a time) and how far the page covers."""
        head = self.recorder.max_notification_id() or 0
        if head <= after:
            return [], after

        def read(start: int, count: int) -> Sequence[Any]:
            return self.recorder.select_notifications(
                start=start + 1, limit=count, stop=head, topics=topics
            )

        try:
            page = read_page(read, after, PAGE_SIZE, ByteBudget(self.page_bytes))
            full = len(page) == PAGE_SIZE
        except OverBudget as over:
            page, full = over.page or [over.refused], True
        entries = [LogEntry(n, self.decode) for n in page]
        for entry in entries:
            _ = entry.value  # decode on the worker thread, not the loop
        covered = entries[-1].sequence if full else head
        return entries, covered

    async def follow(
        self,
        after: int,
        *,
        topics: Sequence[str] = (),
        accept: Callable[[Any], bool] = lambda _notification: True,
    ) -> AsyncIterator[LogEntry]:
        """Every notification after `after` that `accept`s, stored ones then live ones,
        in order, each once. Raises Overflowed when the live buffer overflows."""
        covered = after
        buffer: _Buffer | None = None
        try:
            while buffer is None:
                entries, covered = await anyio.to_thread.run_sync(self._read, covered, topics)
                for entry in entries:
                    if accept(entry.notification):
                        yield entry
                if self.dispatched <= covered:
                    # The follower has handed over nothing past `covered`: join it now,
                    # on the loop thread, before it can hand over anything more.
                    buffer = _Buffer(accept, self.buffer_size, self.buffer_bytes)
                    self._buffers.add(buffer)
            last = covered
            while True:
                await buffer.ready.wait()
                if buffer.overflowed:
                    raise Overflowed(
                        f"more than {self.buffer_size} events or {self.buffer_bytes} bytes "
                        "were waiting for this subscriber; it was closed",
                        last,
                    )
                buffer.ready.clear()
                while buffer.items:
                    entry = buffer.take()
                    if entry.sequence > last:
                        last = entry.sequence
                        yield entry
        finally:
            if buffer is not None:
                self._buffers.discard(buffer)


class ConflatingBuffer(Generic[T]):
    """Latest value per key; a consumer takes everything pending at once."""

    def __init__(
        self,
        key: Callable[[T], Hashable],
        accept: Callable[[T], bool],
        size: int,
        on_drop: Callable[[str], None] | None = None,
    ) -> None:
        self.key = key
        self.accept = accept
        self.size = size
        self.pending: dict[Hashable, T] = {}
        self.ready = asyncio.Event()
        self.overflowed = False
        self.conflated = 0
        self.on_drop = on_drop  # called with "conflated" or "overflow" per dropped value

    def offer(self, value: T) -> bool:
        if not self.accept(value):
            return True
        key = self.key(value)
        if key in self.pending:
            self.conflated += 1
            if self.on_drop is not None:
                self.on_drop("conflated")
            del self.pending[key]  # re-insert: keep delivery in order of last change
        elif len(self.pending) >= self.size:
            self.overflowed = True
            if self.on_drop is not None:
                self.on_drop("overflow")
            self.ready.set()
            return False
        self.pending[key] = value
        self.ready.set()
        return True

    async def take(self) -> list[T]:
        await self.ready.wait()
        if self.overflowed:
            raise Overflowed(f"more than {self.size} changes were waiting for this subscriber")
        self.ready.clear()
        values = list(self.pending.values())
        self.pending.clear()
        return values


class ChangeHub:
    """Fans projection changes (from runner threads) out to conflating buffers."""

    def __init__(
        self,
        *,
        buffer_size: int = 1_000,
        on_drop: Callable[[str, str], None] | None = None,
    ) -> None:
        self.buffer_size = buffer_size
        self.on_drop = on_drop  # (projection, reason) per change a subscriber never gets
        self._buffers: dict[str, set[ConflatingBuffer[Any]]] = {}
        self._hand_off: LoopHandOff[Any] = LoopHandOff(self._dispatch)

    def start(self) -> None:
        self._hand_off.start()

    def wanted(self, projection: str) -> bool:
        """Whether a subscription here listens to `projection`'s changes (any thread)."""
        return bool(self._buffers.get(projection))

    def listener(self, change: Any) -> None:
        """The callback for `projections.add_listener`; safe to call from any thread."""
        if self._hand_off.loop is None or not self._buffers.get(change.projection):
            return
        self._hand_off.put((change,))

    def _dispatch(self, batch: list[Any]) -> None:
        for change in batch:
            for buffer in list(self._buffers.get(change.projection, ())):
                if not buffer.offer(change):
                    self._buffers[change.projection].discard(buffer)

    async def changes(
        self,
        projection: str,
        *,
        key: Callable[[Any], Hashable],
        accept: Callable[[Any], bool],
        throttle_seconds: float = 0.0,
    ) -> AsyncIterator[Any]:
        """Changes of one projection that `accept`s, latest per key; with a throttle,
        at most one per key per window."""
        on_drop = self.on_drop
        dropped = None if on_drop is None else (lambda reason: on_drop(projection, reason))
        buffer: ConflatingBuffer[Any] = ConflatingBuffer(key, accept, self.buffer_size, dropped)
        self._buffers.setdefault(projection, set()).add(buffer)
        try:
            while True:
                for change in await buffer.take():
                    yield change
                if throttle_seconds > 0:
                    await asyncio.sleep(throttle_seconds)
        finally:
            self._buffers.get(projection, set()).discard(buffer)
