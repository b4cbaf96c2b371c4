"""`systemStatus`: the store's head and each projection's progress, as a query and as a
subscription that pushes it every `intervalMs`, so a client sees lag and staleness
without polling and notices a server that stopped answering (the dashboard's STALE
banner, ADR 016)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator
from importlib.metadata import PackageNotFoundError, version
from typing import Annotated

import strawberry
from strawberry.types import Info

from domain.errors import BadInput
from interfaces.api import types
from interfaces.api.auth import CanRead
from interfaces.api.context import Api
from interfaces.api.errors import guarded

MIN_INTERVAL_MS = 250
MAX_INTERVAL_MS = 60_000

DEFAULT_INTERVAL_MS = 1000

IntervalMs = Annotated[
    int | None,
    strawberry.argument(
        description=f"Milliseconds between two messages, {MIN_INTERVAL_MS}..{MAX_INTERVAL_MS} "
        f"(default {DEFAULT_INTERVAL_MS})."
    ),
]


async def system_status(api: Api) -> types.SystemStatus:
    head = await api.run(api.head_sequence)
    states = await api.status()
    return types.SystemStatus(
        version=_version(),
        database=api.system.url.describe(),
        head_sequence=head,
        projections=[
            types.ProjectionStatus(
                name=s.name, sequence=s.sequence, lag=s.lag, stale=s.stale, error=s.error
            )
            for s in states
        ],
    )


@strawberry.type
class StatusSubscription:
    @strawberry.subscription(
        permission_classes=[CanRead],
        description="systemStatus now, then again every intervalMs until the client leaves.",
    )
    async def system_status(
        self, info: Info, interval_ms: IntervalMs = None
    ) -> AsyncGenerator[types.SystemStatus, None]:
        async for status in guarded(_statuses(info.context["api"], interval_ms)):
            yield status


async def _statuses(api: Api, interval_ms: int | None) -> AsyncGenerator[types.SystemStatus, None]:
    interval = DEFAULT_INTERVAL_MS if interval_ms is None else interval_ms
    if not MIN_INTERVAL_MS <= interval <= MAX_INTERVAL_MS:
        raise BadInput(
            f"intervalMs must be within {MIN_INTERVAL_MS}..{MAX_INTERVAL_MS} (got {interval})",
            field="intervalMs",
        )
    while True:
        yield await system_status(api)
        await asyncio.sleep(interval / 1000)


def _version() -> str:
    try:
        return version("tradestate")
    except PackageNotFoundError:
        return "0+unknown"
