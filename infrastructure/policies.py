"""Process policies in every deployment, one active copy per store.

A PolicyThread follows the log for one policy (application/engine/log.py's
LogFollower) while it holds that policy's store-wide lock (infrastructure/locks.py:
an advisory lock on PostgreSQL, a file lock beside a SQLite file, a plain lock for
an in-memory store), and stands by otherwise, taking over when the holder goes
(ADR 013).

Each take-over builds a new follower, whose `recover()` rebuilds the policy's
state from the log: another process may have acted meanwhile.
"""

from __future__ import annotations

import threading

import structlog
from eventsourcing.persistence import ApplicationRecorder

from application.engine.log import LogConsumer, LogFollower
from infrastructure.locks import CHECK_SECONDS, LockHolding, StoreLock, store_lock

__all__ = ["PolicyThread", "StoreLock", "store_lock"]

log = structlog.get_logger("tradestate.policies")

RETRY_SECONDS = 1.0


class PolicyThread:
    """Runs one policy (a LogConsumer) while this process holds its lock."""

    def __init__(
        self,
        recorder: ApplicationRecorder,
        consumer: LogConsumer,
        lock: StoreLock,
        *,
        retry: float = RETRY_SECONDS,
        check: float = CHECK_SECONDS,
    ) -> None:
        self.recorder = recorder
        self.consumer = consumer
        self.lock = lock
        self.holding = LockHolding(lock, f"policy {consumer.name}", check=check)
        self.retry = retry
        self.check = check
        self.follower: LogFollower | None = None
        self.active = threading.Event()
        self._stopped = threading.Event()
        self._thread: threading.Thread | None = None

    @property
    def running(self) -> bool:
        return self._thread is not None

    def start(self) -> None:
        if self._thread is not None:
            return
        self._stopped.clear()
        self._thread = threading.Thread(
            target=self._run, name=f"policy-{self.consumer.name}", daemon=True
        )
        self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        thread, self._thread = self._thread, None
        self._stopped.set()
        follower = self.follower
        if follower is not None:
            follower.stop()
        if thread is not None:
            thread.join(timeout)

    def _run(self) -> None:
        while not self._stopped.is_set():
            if not self.holding.hold():
                self._stopped.wait(self.retry)
                continue
            try:
                self._follow_while_held()
            finally:
                self.holding.release()

    def _follow_while_held(self) -> None:
        follower = LogFollower(self.recorder, self.consumer, retry_delay=self.retry)
        self.follower = follower
        thread = threading.Thread(
            target=follower.run, name=f"policy-{self.consumer.name}-follow", daemon=True
        )
        thread.start()
        self.active.set()
        log.info("policy active", policy=self.consumer.name)
        try:
            while not self._stopped.wait(self.check):
                if not self.holding.still_held():
                    return
        finally:
            self.active.clear()
            follower.stop()
            thread.join(30)
            self.follower = None
