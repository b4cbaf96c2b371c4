"""Keeping up with the event log: the one way this code base follows it (ADR 021).

A `Follower` is a thread that does a step of work (`step()`: read what is new from
its position and hand it on) whenever new events may be there, until stopped:

- Waiting: its `wake` event is set by this process's commits (the recorder's
  `add_waiter`, SQLite and PostgreSQL) and, on PostgreSQL, by every process's
  commits (one LISTEN connection per process, shared by every follower of the
  recorder: `CommitListener`); every `poll` seconds otherwise (other processes'
  commits on SQLite).
- Failing: a step that raises is reported (`failed`) and tried again after
  `retry` seconds, from the position the follower last reached; nothing is
  skipped.
- Holding: with a store-wide lock (`holding`), steps run only while this process
  holds it; a take-over tells the follower to forget what it knew.
- Stopping: `stop()` ends the loop between steps; `finish()` runs last, while the
  lock is still held.

Its users, each named for what it does: `ConsumerFollower` (below: one
`LogConsumer`, the engine's policies), the process policies' `PolicyThread`, and
in infrastructure the projections' `LogTail`, `ProjectionRunnerThread`, the
transparency log's `TreeFollower` and the read models' `ChangeWatcher`.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any, Protocol

from eventsourcing.persistence import ApplicationRecorder

from application.engine.log import PAGE, LogConsumer

log = logging.getLogger(__name__)

RETRY_SECONDS = 1.0


class Holding(Protocol):
    """A follower's hold on a store-wide lock (infrastructure/locks.py's LockHolding)."""

    @property
    def active(self) -> bool: ...

    def hold(self) -> bool: ...

    def release(self) -> None: ...


class NoLock:
    """Nothing to hold: the follower is always active."""

    active = True

    def hold(self) -> bool:
        return True

    def release(self) -> None:
        return None


class CommitListener:
    """One thread per process and recorder calling the recorder's `listen_for_commits`
    (PostgreSQL LISTEN, waking every waiter of the recorder), while a follower needs it."""

    _lock = threading.Lock()
    _running: dict[int, tuple[CommitListener, int]] = {}

    def __init__(self, listen: Callable[[threading.Event], None]) -> None:
        self.stopped = threading.Event()
        self.thread = threading.Thread(
            target=listen, args=(self.stopped,), name="log-listen", daemon=True
        )

    @classmethod
    def acquire(cls, recorder: Any) -> None:
        listen = getattr(recorder, "listen_for_commits", None)
        if listen is None:
            return
        with cls._lock:
            listener, users = cls._running.get(id(recorder), (None, 0))
            if listener is None:
                listener = CommitListener(listen)
                listener.thread.start()
            cls._running[id(recorder)] = (listener, users + 1)

    @classmethod
    def release(cls, recorder: Any) -> None:
        if getattr(recorder, "listen_for_commits", None) is None:
            return
        with cls._lock:
            listener, users = cls._running.get(id(recorder), (None, 0))
            if listener is None:
                return
            if users > 1:
                cls._running[id(recorder)] = (listener, users - 1)
                return
            del cls._running[id(recorder)]
        listener.stopped.set()


class Follower:
    """A thread that runs `step()` until stopped, woken by commits (see the module)."""

    def __init__(
        self,
        name: str,
        *,
        poll: float,
        recorder: Any = None,
        holding: Holding | None = None,
        retry: float = RETRY_SECONDS,
    ) -> None:
        self.name = name
        self.poll = poll
        self.recorder = recorder  # woken by its commits when given
        self.holding: Holding = holding or NoLock()
        self.retry = retry
        self.wake = threading.Event()
        self.stopped = threading.Event()
        self.thread: threading.Thread | None = None

    @property
    def active(self) -> bool:
        """Whether this follower does its work now (it holds its lock, or has none)."""
        return self.holding.active

    @property
    def running(self) -> bool:
        return self.thread is not None

    def start(self) -> None:
        if self.thread is not None:
            return
        self.stopped.clear()
        self.thread = threading.Thread(target=self.run, name=self.name, daemon=True)
        self.thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        self.stopped.set()
        self.wake.set()
        thread, self.thread = self.thread, None
        if thread is not None and thread.is_alive() and thread is not threading.current_thread():
            thread.join(timeout)

    def run(self) -> None:
        """The loop (blocks until `stop()`; `start()` runs it on a thread of its own)."""
        if self.recorder is not None:
            add_waiter = getattr(self.recorder, "add_waiter", None)
            if add_waiter is not None:
                add_waiter(self.wake)
            CommitListener.acquire(self.recorder)
        try:
            while not self.stopped.is_set():
                if not self.holding.hold():
                    self.stopped.wait(self.retry)
                    continue
                # Cleared before the step, never after the wait: a commit that lands
                # while the step reads is then seen by the next wait at once.
                self.wake.clear()
                try:
                    more = self.step()
                except Exception as error:  # database gone, a handler failed: retry
                    self.failed(error)
                    self.holding.release()
                    self.stopped.wait(self.retry)
                    continue
                if not more:
                    self.idle()
        finally:
            try:
                if self.holding.active:
                    self.finish()
            finally:
                self.holding.release()
                if self.recorder is not None:
                    CommitListener.release(self.recorder)

    def step(self) -> bool:
        """Do what is there to do; True if there may be more right away."""
        raise NotImplementedError

    def idle(self) -> None:
        """Wait for a commit, or `poll` seconds."""
        self.wake.wait(self.poll)

    def failed(self, error: Exception) -> None:
        log.warning("%s failed, retrying: %s", self.name, error)

    def finish(self) -> None:
        """At stop, while still active."""


def consumer_poll(recorder: Any) -> float:
    """How often a consumer reads without a wake-up: rarely where every process's
    commits wake it (PostgreSQL), often where only this process's do (SQLite), and
    very often in memory (nothing wakes it; a read costs nothing)."""
    if getattr(recorder, "listen_for_commits", None) is not None:
        return 1.0
    if getattr(recorder, "add_waiter", None) is not None:
        return 0.2
    return 0.02


class ConsumerFollower(Follower):
    """Runs one `LogConsumer`: `recover()` (at start, and after each take-over of the
    lock), then `handle()` for each notification of its topics, in order."""

    def __init__(
        self,
        recorder: ApplicationRecorder,
        consumer: LogConsumer,
        retry_delay: float = RETRY_SECONDS,
        *,
        name: str | None = None,
        holding: Holding | None = None,
        poll: float | None = None,
    ) -> None:
        super().__init__(
            name or f"follow-{consumer.name}",
            poll=consumer_poll(recorder) if poll is None else poll,
            recorder=recorder,
            holding=holding,
            retry=retry_delay,
        )
        self.consumer = consumer
        self.position: int | None = None
        self.ready = threading.Event()
        self.handled = threading.Condition()

    def forget(self) -> None:
        """Recover again before the next step (another process may have acted)."""
        self.position = None

    def step(self) -> bool:
        if self.position is None:
            self.position = self.consumer.recover()
            self.ready.set()
        page = self.recorder.select_notifications(
            start=self.position, limit=PAGE, topics=self.consumer.topics, inclusive_of_start=False
        )
        for notification in page:
            if self.stopped.is_set():
                return False
            self.consumer.handle(notification)
            with self.handled:
                self.position = notification.id
                self.handled.notify_all()
        return len(page) == PAGE

    def failed(self, error: Exception) -> None:
        log.error(
            "%s failed after notification %s; retrying",
            self.consumer.name,
            self.position,
            exc_info=error,
        )

    def wait_for(self, sequence: int, timeout: float) -> bool:
        """Block until this follower has handled the log up to `sequence` (tests, shutdown)."""
        with self.handled:
            return self.handled.wait_for(
                lambda: self.position is not None and self.position >= sequence, timeout
            )
