"""Following the event log: catch up from a position, then live, in order, in one thread.

A consumer rebuilds what it needs from the log (`recover`, returning the position
to follow from) and then handles each notification of its topics in sequence
order. The application recorder's `subscribe()` does the waiting: on SQLite it
is woken by this process's commits and polls for other processes'; on
PostgreSQL it uses LISTEN/NOTIFY. Holes in the sequence are harmless: a
consumer only remembers the last id it handled.

A handler that raises stops at that notification, logs it and retries it after
a pause; nothing is skipped.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator, Sequence
from typing import Any, Protocol

from eventsourcing.persistence import ApplicationRecorder, Notification, Subscription

log = logging.getLogger(__name__)

PAGE = 500


class LogConsumer(Protocol):
    name: str
    topics: Sequence[str]

    def recover(self) -> int:
        """Rebuild state from the log; the notification id to follow after."""
        ...

    def handle(self, notification: Notification) -> None: ...


def read_log(
    recorder: ApplicationRecorder,
    topics: Sequence[str],
    after: int = 0,
    until: int | None = None,
) -> Iterator[Notification]:
    """Stored notifications of `topics` with after < id <= until, in order, page by page."""
    position = after
    while until is None or position < until:
        page = recorder.select_notifications(
            start=position, limit=PAGE, stop=until, topics=topics, inclusive_of_start=False
        )
        if not page:
            return
        yield from page
        position = page[-1].id


def head(recorder: ApplicationRecorder) -> int:
    return recorder.max_notification_id() or 0


class LogFollower:
    """Runs one consumer: `run()` blocks (call it in a thread) until `stop()`."""

    def __init__(
        self, recorder: ApplicationRecorder, consumer: LogConsumer, retry_delay: float = 1.0
    ) -> None:
        self.recorder = recorder
        self.consumer = consumer
        self.retry_delay = retry_delay
        self.position: int | None = None
        self.ready = threading.Event()
        self.handled = threading.Condition()
        self._stopped = threading.Event()
        self._lock = threading.Lock()
        self._subscription: Subscription[Any] | None = None

    def run(self) -> None:
        while not self._stopped.is_set():
            try:
                if self.position is None:
                    self.position = self.consumer.recover()
                    self.ready.set()
                self._follow()
            except Exception:
                log.exception(
                    "%s failed after notification %s; retrying", self.consumer.name, self.position
                )
                self._stopped.wait(self.retry_delay)

    def _follow(self) -> None:
        subscription = self.recorder.subscribe(gt=self.position, topics=self.consumer.topics)
        with subscription:
            with self._lock:
                self._subscription = subscription
            if self._stopped.is_set():
                return
            for notification in subscription:
                self.consumer.handle(notification)
                with self.handled:
                    self.position = notification.id
                    self.handled.notify_all()
                if self._stopped.is_set():
                    return

    def stop(self) -> None:
        self._stopped.set()
        with self._lock:
            subscription = self._subscription
        if subscription is not None:
            subscription.stop()

    def wait_for(self, sequence: int, timeout: float) -> bool:
        """Block until this follower has handled the log up to `sequence` (tests, shutdown)."""
        with self.handled:
            return self.handled.wait_for(
                lambda: self.position is not None and self.position >= sequence, timeout
            )
