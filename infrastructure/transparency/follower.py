"""The tree's follower: one per store appends new events to the tree (with
PostgreSQL, only while it holds the advisory lock; another process takes over
when it dies). Runs beside the projections in `serve` and `worker`; it is not
a projection, and nothing rebuilds it."""

from __future__ import annotations

import structlog

from infrastructure.locks import AdvisoryLock, LockHolding
from infrastructure.projections.threads import RETRY_SECONDS, Worker
from infrastructure.transparency.appender import TreeAppender

log = structlog.get_logger("tradestate.transparency")
LOCK_KEY = "tradestate:transparency-log"


class TreeFollower(Worker):
    def __init__(
        self,
        appender: TreeAppender,
        *,
        poll: float = 0.5,
        settle: float = 0.1,
        lock: bool = False,
    ) -> None:
        super().__init__("transparency-follow")
        self.appender = appender
        self.poll = poll
        self.settle = settle
        self.holding = LockHolding(
            AdvisoryLock(appender.engine, LOCK_KEY) if lock else None,
            "transparency log",
            taken=appender.forget,
        )

    @property
    def active(self) -> bool:
        return self.holding.active

    def _run(self) -> None:
        try:
            while not self.stopped.is_set():
                if not self.holding.hold():
                    self.stopped.wait(RETRY_SECONDS)
                    continue
                try:
                    appended = self.appender.append_once()
                except Exception as error:  # database gone, or another appender won
                    log.warning("transparency log append failed", error=str(error))
                    self.holding.release()
                    self.stopped.wait(RETRY_SECONDS)
                    continue
                if appended < self.appender.page:
                    self.wake.wait(self.poll)
                    self.wake.clear()
                    # Let a few commits gather: one tree transaction per command
                    # would double the store's write transactions.
                    self.stopped.wait(self.settle)
            self._finish()
        finally:
            self.holding.release()

    def _finish(self) -> None:
        """At stop: append what is committed and write a head over it."""
        if not self.active:
            return
        try:
            self.appender.catch_up()
            self.appender.write_head()
        except Exception as error:
            log.warning("transparency log not finished at stop", error=str(error))
