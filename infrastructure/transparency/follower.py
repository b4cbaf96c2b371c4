"""The tree's follower: one per store appends new events to the tree (with
PostgreSQL, only while it holds the advisory lock; another process takes over
when it dies). Runs beside the projections in `serve` and `worker`; it is not
a projection, and nothing rebuilds it. A `Follower` (application/follow.py)."""

from __future__ import annotations

import structlog

from application.follow import Follower
from infrastructure.locks import AdvisoryLock, LockHolding
from infrastructure.transparency.appender import TreeAppender

log = structlog.get_logger("tradestate.transparency")
LOCK_KEY = "tradestate:transparency-log"


class TreeFollower(Follower):
    def __init__(
        self,
        appender: TreeAppender,
        *,
        poll: float = 0.5,
        settle: float = 0.1,
        lock: bool = False,
    ) -> None:
        super().__init__(
            "transparency-follow",
            poll=poll,
            recorder=appender.recorder,
            holding=LockHolding(
                AdvisoryLock(appender.engine, LOCK_KEY) if lock else None,
                "transparency log",
                taken=appender.forget,
            ),
        )
        self.appender = appender
        self.settle = settle

    def step(self) -> bool:
        return self.appender.append_once() >= self.appender.page

    def idle(self) -> None:
        super().idle()
        # Let a few commits gather: one tree transaction per command would double
        # the store's write transactions.
        self.stopped.wait(self.settle)

    def failed(self, error: Exception) -> None:  # database gone, or another appender won
        log.warning("transparency log append failed", error=str(error))

    def finish(self) -> None:
        """At stop: append what is committed and write a head over it."""
        try:
            self.appender.catch_up()
            self.appender.write_head()
        except Exception as error:
            log.warning("transparency log not finished at stop", error=str(error))
