"""What resolvers reach through `info.context["api"]`: the system, the hubs, helpers.

Blocking work (commands, read-model queries, log reads, read-your-writes checks)
runs in worker threads so the event loop keeps serving subscriptions and other
requests. Threads come in lanes: commands have theirs, and each kind of read
(a projection's tables, the log, status) has its own, so requests stalled on one
thing (a table another session locked, a write lock held by another process)
hold only their lane's threads while every other kind of request goes on.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from decimal import Decimal
from typing import Any, TypeVar

import anyio

from domain.errors import DomainError
from infrastructure.fanout import ChangeHub, EventHub
from infrastructure.logging import get_logger
from infrastructure.metrics import (
    COMMAND_SECONDS,
    HEAD_SEQUENCE,
    MESSAGES_DROPPED,
    SUBSCRIBERS_CLOSED_SLOW,
)
from infrastructure.readmodels.account_queries import AccountReads
from infrastructure.readmodels.queries import ReadModels
from infrastructure.settings import Settings
from interfaces.api.accounts_view import AccountsView
from interfaces.api.auth import Auth
from interfaces.api.errors import ApiError
from interfaces.api.events import to_event
from interfaces.api.positions_view import PositionsView

T = TypeVar("T")
log = get_logger("tradestate.api")


class Api:
    """The API's view of the system: commands, read models, log, fan-out."""

    def __init__(self, system: Any, settings: Settings) -> None:
        self.system = system
        self.settings = settings
        self.auth = Auth(settings)
        self.app = system.app
        self.read = getattr(system, "read", None) or ReadModels(system.engine)
        self.projections = getattr(system, "projections", None)
        self.accounts = AccountReads(system.engine)
        self.accounts_view = AccountsView(self.read)
        self.events = EventHub(
            self.app.recorder,
            lambda notification: to_event(self.app.mapper, notification),
            buffer_size=settings.subscription_buffer_size,
            buffer_bytes=settings.subscription_buffer_bytes,
            page_bytes=settings.catch_up_page_bytes,
            on_overflow=_events_overflowed,
        )
        self.changes = ChangeHub(
            buffer_size=settings.subscription_buffer_size, on_drop=_change_dropped
        )
        self.prices: dict[str, Decimal] = {}
        self.positions = PositionsView(
            self.read, places=lambda instrument: self.app.spec_for(instrument).places
        )
        self._lanes: dict[str, anyio.CapacityLimiter] = {}
        self._commands = anyio.CapacityLimiter(settings.command_threads)

    def lane(self, kind: str) -> anyio.CapacityLimiter:
        """The worker threads of one kind of read (created on first use, on the loop)."""
        limiter = self._lanes.get(kind)
        if limiter is None:
            limiter = self._lanes[kind] = anyio.CapacityLimiter(self.settings.threads_per_read_kind)
        return limiter

    async def start(self) -> None:
        """On the serving loop, before the first request."""
        projections = self.projections
        running = projections is not None and projections.running
        self.events.start(projections.follower if projections is not None and running else None)
        self.changes.start()
        rows = await self.run(self.read.quotes, lane="quotes")
        self.prices.update({row["instrument"]: row["last"] for row in rows})
        if self.projections is not None:
            self.projections.add_listener(self._on_change)
            # Rows other processes' runners commit (a worker, another server) too.
            self.projections.watch(self._watched)
        else:
            log.warning("no projections: read models will not change while serving")

    async def stop(self) -> None:
        await anyio.to_thread.run_sync(self.events.stop)

    def _watched(self, projection: str) -> bool:
        # Quotes always: their prices price positions in answers and subscriptions.
        return projection == "quotes" or self.changes.wanted(projection)

    def _on_change(self, change: Any) -> None:
        if change.projection == "quotes":
            row = change.row
            self.prices[row["instrument"]] = row["last"]
        self.changes.listener(change)

    async def run(self, function: Callable[..., T], *args: Any, lane: str = "log") -> T:
        """`function(*args)` in a worker thread of the `lane` kind of read."""
        return await anyio.to_thread.run_sync(function, *args, limiter=self.lane(lane))

    async def command(self, name: str, function: Callable[..., T], *args: Any) -> T:
        """Run an application command in a worker thread, timed."""
        started = time.perf_counter()
        outcome = "ok"
        try:
            return await anyio.to_thread.run_sync(function, *args, limiter=self._commands)
        except DomainError as error:
            outcome = error.code.lower()
            raise
        except Exception:
            outcome = "error"
            raise
        finally:
            COMMAND_SECONDS.labels(name, outcome).observe(time.perf_counter() - started)

    async def wait_for(self, projections: Sequence[str], min_sequence: int | None) -> None:
        """Read-your-writes: wait until the read models have applied min_sequence."""
        if not min_sequence:
            return
        if min_sequence < 0:
            raise ApiError(
                "minSequence must not be negative", "BAD_USER_INPUT", field="minSequence"
            )
        timeout = self.settings.min_sequence_timeout_seconds
        if self.projections is None:
            raise ApiError("projections are not running on this server", "UNAVAILABLE")
        waited = await self.projections.wait_for(
            list(projections), min_sequence, timeout, self.lane("status")
        )
        if not waited:
            raise ApiError(
                f"the read model has not reached sequence {min_sequence} within {timeout:g} s; "
                "retry later",
                "UNAVAILABLE",
            )

    async def query(
        self,
        projections: Sequence[str],
        min_sequence: int | None,
        function: Callable[..., T],
        *args: Any,
    ) -> T:
        await self.wait_for(projections, min_sequence)
        return await self.run(function, *args, lane=projections[0])

    async def status(self) -> list[Any]:
        """Each projection's state (reads the database: off the loop)."""
        if self.projections is None:
            return []
        return await self.run(self.projections.status, lane="status")

    def head_sequence(self) -> int:
        head = self.app.recorder.max_notification_id() or 0
        HEAD_SEQUENCE.set(head)
        return int(head)


def _events_overflowed() -> None:
    SUBSCRIBERS_CLOSED_SLOW.labels("events").inc()
    MESSAGES_DROPPED.labels("events", "overflow").inc()


def _change_dropped(projection: str, reason: str) -> None:
    MESSAGES_DROPPED.labels(projection, reason).inc()
