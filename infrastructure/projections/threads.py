"""The threads that keep a process's projections current (both `Follower`s,
application/follow.py).

One LogTail reads what is new in the log, for every projection at once (and
for the API's event subscriptions, `listeners`), and wakes the runners that
handle some of it; each ProjectionRunnerThread applies its projection's share.
A commit thus costs one read of the log, not one per projection, and a runner
none of whose events are in it is not even woken: the tail moves its position
in memory.
"""

from __future__ import annotations

from collections.abc import Callable

import structlog
from eventsourcing.persistence import ApplicationRecorder

from application.follow import Follower
from infrastructure.locks import AdvisoryLock, LockHolding
from infrastructure.projections.runner import ProjectionRunner, Window

log = structlog.get_logger("tradestate.projections")


class LogTail(Follower):
    """Reads the notifications after the last head it saw (every topic, a page at a
    time) when woken by a commit, or every `poll` seconds (other processes' commits
    on SQLite), publishes them as `window`, offers it to the runners and hands it to
    the `listeners` (the API's EventHub)."""

    def __init__(self, recorder: ApplicationRecorder, *, poll: float = 0.1, page: int = 1000):
        super().__init__("log-tail", poll=poll, recorder=recorder)
        self.page = page
        self.window: Window | None = None
        self.runners: list[ProjectionRunnerThread] = []
        self.listeners: list[Callable[[Window], None]] = []

    def start_at(self, after: int) -> None:
        """Start, reading what comes after `after` (rather than after the head it finds)."""
        self.window = Window(after, after, ())
        self.start()

    def step(self) -> bool:
        return self.read()

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

    def failed(self, error: Exception) -> None:
        log.warning("projection log read failed", error=str(error))


class ProjectionRunnerThread(Follower):
    """Runs a ProjectionRunner until stopped; with PostgreSQL, only while it
    holds the projection's advisory lock (one active runner per projection).

    With a tail, it applies the tail's window when the tail wakes it (and every
    `poll` seconds, for the runner's tracking and slot checks); without one, it
    reads the log's head itself every `poll` seconds."""

    def __init__(
        self,
        runner: ProjectionRunner,
        *,
        poll: float = 0.1,
        lock: bool = False,
        tail: LogTail | None = None,
    ):
        super().__init__(
            f"projection-{runner.name}",
            poll=poll,
            holding=LockHolding(
                AdvisoryLock(runner.engine, f"tradestate:projection:{runner.name}")
                if lock
                else None,
                f"projection {runner.name}",
                taken=runner.forget,  # another process may have run it meanwhile
            ),
        )
        self.runner = runner
        self.tail = tail

    def offer(self, window: Window) -> None:
        """Wake the runner if `window` holds something for it (or it is busy)."""
        if not self.runner.skip(window):
            self.wake.set()

    def step(self) -> bool:
        window = self.tail.window if self.tail is not None else None
        with self.runner.running:
            try:
                return bool(self.runner.run_once(window))
            except Exception:
                self.runner.forget()
                raise

    def failed(self, error: Exception) -> None:
        log.warning("projection runner error", projection=self.runner.name, error=str(error))

    def finish(self) -> None:
        """At stop: write the position reached through ignored events to tracking."""
        with self.runner.running:
            if self.runner.checked is None:
                return
            try:
                self.runner.flush()
            except Exception as error:
                log.warning(
                    "projection tracking not written", projection=self.runner.name, error=str(error)
                )
