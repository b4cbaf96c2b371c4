"""Read-your-writes waits that share their checks.

Any number of requests may wait for their `minSequence` (one far ahead of the log
included): they share one check of the projections' progress at a time, run in a
worker thread, so waiting costs the database and the event loop the same for
sixty waiters as for one.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Mapping, Sequence

import anyio

Progress = Mapping[str, int]


class SharedProgress:
    """`read()` (blocking: how far each projection has applied the log) run once for
    all the waiters that ask while it runs."""

    def __init__(self, read: Callable[[], Progress]) -> None:
        self._read = read
        self._running: asyncio.Future[Progress] | None = None

    async def current(self, limiter: anyio.CapacityLimiter | None) -> Progress:
        if self._running is None:
            self._running = asyncio.ensure_future(self._check(limiter))
        # A waiter that gives up (its client left) does not cancel the others' check.
        return await asyncio.shield(self._running)

    async def _check(self, limiter: anyio.CapacityLimiter | None) -> Progress:
        try:
            return await anyio.to_thread.run_sync(self._read, limiter=limiter)
        finally:
            self._running = None

    async def wait_for(
        self,
        names: Sequence[str],
        sequence: int,
        timeout: float,
        limiter: anyio.CapacityLimiter | None = None,
    ) -> bool:
        """True once every named projection has applied `sequence`; False after
        `timeout`. A progress read before this call is still a truth (positions only
        grow): at worst it costs one more check."""
        deadline = time.monotonic() + timeout
        delay = 0.002
        while True:
            progress = await self.current(limiter)
            if all(progress.get(name, 0) >= sequence for name in names):
                return True
            if time.monotonic() >= deadline:
                return False
            await asyncio.sleep(min(delay, max(deadline - time.monotonic(), 0)))
            delay = min(delay * 2, 0.05)
