"""Process policies in every deployment, one active copy per store.

A PolicyThread follows the log for one policy (a ConsumerFollower,
application/follow.py) while it holds that policy's store-wide lock (infrastructure/locks.py:
an advisory lock on PostgreSQL, a file lock beside a SQLite file, a plain lock for
an in-memory store), and stands by otherwise, taking over when the holder goes
(ADR 013).

Each take-over calls the policy's `recover()` again, which rebuilds its state
from the log: another process may have acted meanwhile.
"""

from __future__ import annotations

from eventsourcing.persistence import ApplicationRecorder

from application.engine.log import LogConsumer
from application.follow import RETRY_SECONDS, ConsumerFollower
from infrastructure.locks import CHECK_SECONDS, LockHolding, StoreLock, store_lock

__all__ = ["PolicyThread", "StoreLock", "store_lock"]


class PolicyThread(ConsumerFollower):
    """Runs one policy (a LogConsumer) while this process holds its lock; each
    take-over recovers the policy's state from the log anew."""

    def __init__(
        self,
        recorder: ApplicationRecorder,
        consumer: LogConsumer,
        lock: StoreLock,
        *,
        retry: float = RETRY_SECONDS,
        check: float = CHECK_SECONDS,
    ) -> None:
        super().__init__(
            recorder,
            consumer,
            retry,
            name=f"policy-{consumer.name}",
            holding=LockHolding(
                lock, f"policy {consumer.name}", taken=lambda: self.forget(), check=check
            ),
        )
        self.lock = lock
