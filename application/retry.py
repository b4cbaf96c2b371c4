"""Optimistic concurrency: a command that lost a race is run again on fresh state."""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from typing import TypeVar

from eventsourcing.persistence import IntegrityError, OperationalError

T = TypeVar("T")

ATTEMPTS = 20


def retrying(command: Callable[[], T], attempts: int = ATTEMPTS) -> T:
    """Run `command`; on a version clash or a busy database, back off and run it again.

    The command reloads its aggregates each time, so a retry sees the winner's
    events (and, for idempotent commands, returns the winner's result).
    """
    for attempt in range(attempts):
        try:
            return command()
        except (IntegrityError, OperationalError):
            if attempt == attempts - 1:
                raise
            time.sleep(random.uniform(0, 0.002 * (2 ** min(attempt, 6))))
    raise AssertionError("unreachable")
