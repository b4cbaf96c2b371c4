"""Log consumers and reading the event log.

A consumer rebuilds what it needs from the log (`recover`, returning the position
to follow from) and then handles each notification of its topics in sequence
order; application/follow.py's ConsumerFollower runs one. Holes in the sequence
are harmless: a consumer only remembers the last id it handled. A handler that
raises stops at that notification, logs it and retries it after a pause; nothing
is skipped.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Sequence
from typing import Protocol

from eventsourcing.persistence import ApplicationRecorder, Notification

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
