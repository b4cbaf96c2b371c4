"""The signal-expiry sweeper: PENDING signals past their expiresAt become EXPIRED."""

from __future__ import annotations

import logging
import threading
from collections.abc import Sequence
from datetime import datetime
from uuid import UUID

from eventsourcing.persistence import Notification

from application.commands import Commands
from application.engine import topics
from application.engine.log import head, read_log
from domain.errors import DomainError

log = logging.getLogger(__name__)


class ExpirySweeper:
    """A log consumer keeping the PENDING signals that have an expiry; `sweep()`
    expires those past it (through `expire_signal`, which re-checks on the aggregate)."""

    name = "expiry-sweeper"
    topics: Sequence[str] = topics.SIGNALS

    def __init__(self, commands: Commands) -> None:
        self.commands = commands
        self.store = commands.store
        self._pending: dict[UUID, datetime] = {}
        self._lock = threading.Lock()

    def recover(self) -> int:
        until = head(self.store.recorder)
        for notification in read_log(self.store.recorder, self.topics, 0, until):
            self.handle(notification)
        return until

    def handle(self, notification: Notification) -> None:
        signal_id = topics.originator(notification)
        with self._lock:
            if notification.topic != topics.SIGNAL_GENERATED:
                self._pending.pop(signal_id, None)
                return
        expires_at = topics.decode(self.store, notification).expires_at
        if expires_at is not None:
            with self._lock:
                self._pending[signal_id] = expires_at

    def due(self, now: datetime) -> list[UUID]:
        with self._lock:
            return [s for s, expires_at in self._pending.items() if expires_at <= now]

    def sweep(self) -> int:
        """Expire every due signal; the number expired."""
        expired = 0
        for signal_id in self.due(self.store.clock()):
            try:
                self.commands.signals.expire_signal(signal_id)
                expired += 1
            except DomainError as error:
                log.debug("signal %s not expired: %s", signal_id, error)
            with self._lock:
                self._pending.pop(signal_id, None)
        return expired
