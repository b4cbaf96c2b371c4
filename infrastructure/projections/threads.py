"""The threads that keep a process's projections current.

One LogFollower reads what is new in the log, for every projection at once (and
for the API's event subscriptions, `listeners`), and wakes the runners that
handle some of it; each RunnerThread applies its
projection's share. A commit thus costs one read of the log, not one per
projection, and a runner none of whose events are in it is not even woken:
the follower moves its position in memory.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

import structlog
from eventsourcing.persistence import ApplicationRecorder

from infrastructure.locks import AdvisoryLock, LockHolding
from infrastructure.projections.runner import ProjectionRunner, Window

log = structlog.get_logger("tradestate.projections")

RETRY_SECONDS = 1.0


class Worker:
    """A daemon thread running `_run` until `stopped`; setting `wake` cuts its wait
    for work short."""

    def __init__(self, name: str) -> None:
        self.wake = threading.Event()
        self.stopped = threading.Event()
        self.thread = threading.Thread(target=self._run, name=name, daemon=True)

    def start(self) -> None:
        self.thread.start()

    def stop(self) -> None:
        self.stopped.set()
        self.wake.set()
        if self.thread.is_alive():
            self.thread.join(timeout=10)

    def _run(self) -> None:
        raise NotImplementedError


class LogFollower(Worker):
    """Reads the notifications after the last head it saw (every topic, a page at a
    time) when woken by a commit, or every `poll` seconds (other processes' commits
    on SQLite), publishes them as `window` and offers it to the runners."""

    def __init__(self, recorder: ApplicationRecorder, *, poll: float = 0.1, page: int = 1000):
        super().__init__("projections-follow")
        self.recorder = recorder
        self.poll = poll
        self.page = page
        self.window: Window | None = None
        self.runners: list[RunnerThread] = []
        self.listeners: list[Callable[[Window], None]] = []  # e.g. the API's EventHub

    def read(self) -> bool:
        """Publish what is new; True if a full page came (there may be more)."""
        window = self.window
        if window is None:  # start at the head: runners behind it read on their own
            head = self.recorder.max_notification_id() or 0
            self._publish(Window(head, head, ()))
            return False
        new = self.recorder.select_notifications(window.head, self.page, inclusive_of_start=False)
        if not new:
            return False
        self._publish(Window(window.head, new[-1].id, tuple(new)))
        return len(new) == self.page

    def _publish(self, window: Window) -> None:
        self.window = window
        for runner in self.runners:
            runner.offer(window)
        for listener in list(self.listeners):
            listener(window)

    def _run(self) -> None:
        while not self.stopped.is_set():
            try:
                more = self.read()
            except Exception as error:  # database gone: keep trying, say so
                log.warning("projection log read failed", error=str(error))
                self.stopped.wait(RETRY_SECONDS)
                continue
            if not more:
                self.wake.wait(self.poll)
                self.wake.clear()


class RunnerThread(Worker):
    """Runs a ProjectionRunner until stopped; with PostgreSQL, only while it
    holds the projection's advisory lock (one active runner per projection).

    With a follower, it applies the follower's window when the follower wakes it
    (and every `poll` seconds, for the runner's tracking and slot checks); without
    one, it reads the log's head itself every `poll` seconds."""

    def __init__(
        self,
        runner: ProjectionRunner,
        *,
        poll: float = 0.1,
        lock: bool = False,
        follower: LogFollower | None = None,
    ):
        super().__init__(f"projection-{runner.name}")
        self.runner = runner
        self.poll = poll
        self.follower = follower
        self.holding = LockHolding(
            AdvisoryLock(runner.engine, f"tradestate:projection:{runner.name}") if lock else None,
            f"projection {runner.name}",
            taken=runner.forget,  # another process may have run it meanwhile
        )

    @property
    def active(self) -> bool:
        return self.holding.active

    def offer(self, window: Window) -> None:
        """Wake the runner if `window` holds something for it (or it is busy)."""
        if not self.runner.skip(window):
            self.wake.set()

    def _run(self) -> None:
        try:
            while not self.stopped.is_set():
                if not self.holding.hold():
                    self.stopped.wait(RETRY_SECONDS)
                    continue
                busy = self._run_once()
                if busy is None:  # database gone: keep trying
                    self.holding.release()
                    self.stopped.wait(RETRY_SECONDS)
                elif not busy:
                    self.wake.wait(self.poll)
                    self.wake.clear()
        finally:
            self._flush()
            self.holding.release()

    def _run_once(self) -> int | None:
        window = self.follower.window if self.follower is not None else None
        with self.runner.running:
            try:
                return self.runner.run_once(window)
            except Exception as error:
                log.warning(
                    "projection runner error", projection=self.runner.name, error=str(error)
                )
                self.runner.forget()
                return None

    def _flush(self) -> None:
        """At stop: write the position reached through ignored events to tracking."""
        if not self.active:
            return
        with self.runner.running:
            if self.runner.checked is None:
                return
            try:
                self.runner.flush()
            except Exception as error:
                log.warning(
                    "projection tracking not written", projection=self.runner.name, error=str(error)
                )
