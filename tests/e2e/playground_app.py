"""A toy Litestar + strawberry app serving the tradestate playground.

Used by test_playground_browser.py: one fake open position, and an `events`
subscription that echoes the connection_init `authorization` it received, so
the browser test can see the Headers pane reach subscriptions.

Run: python tests/e2e/playground_app.py --port 8123   (from the repo root)
"""

from __future__ import annotations

import argparse
import asyncio
import enum
import sys
from collections.abc import AsyncGenerator
from pathlib import Path

import strawberry
from litestar import Litestar
from strawberry.scalars import JSON
from strawberry.types import Info

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from interfaces.playground import playground_static_router  # noqa: E402
from interfaces.playground.litestar import make_playground_controller  # noqa: E402


@strawberry.enum
class PositionStatus(enum.Enum):
    OPEN = "OPEN"
    CLOSED = "CLOSED"


@strawberry.type
class Position:
    id: strawberry.ID
    account: str
    instrument: str
    quantity: str
    average_price: str | None
    realized_pnl: str
    unrealized_pnl: str | None
    status: PositionStatus
    as_of: int


@strawberry.type
class Event:
    sequence: int
    type: str
    aggregate_id: strawberry.ID
    timestamp: str
    data: JSON


FAKE_POSITION = Position(
    id=strawberry.ID("pos-toy-1"),
    account="default",
    instrument="TOYCORP",
    quantity="150",
    average_price="101.25",
    realized_pnl="0",
    unrealized_pnl="37.50",
    status=PositionStatus.OPEN,
    as_of=42,
)


@strawberry.type
class Query:
    @strawberry.field
    def positions(self, status: PositionStatus | None = None) -> list[Position]:
        return [FAKE_POSITION] if status in (None, PositionStatus.OPEN) else []


@strawberry.type
class Subscription:
    @strawberry.subscription
    async def events(self, info: Info, after: int | None = 0) -> AsyncGenerator[Event, None]:
        params = info.context.get("connection_params") or {}
        start = after or 0
        for offset, kind in enumerate(("PositionOpened", "PositionUpdated"), start=1):
            await asyncio.sleep(0.2)
            yield Event(
                sequence=start + offset,
                type=kind,
                aggregate_id=strawberry.ID("pos-toy-1"),
                timestamp="2024-01-02T03:04:05Z",
                data={"seenAuthorization": params.get("authorization"), "n": offset},
            )


schema = strawberry.Schema(query=Query, subscription=Subscription)

app = Litestar(
    route_handlers=[
        make_playground_controller(schema, path="/graphql"),
        playground_static_router(),
    ],
)


def main() -> None:
    import uvicorn

    parser = argparse.ArgumentParser()
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8123)
    args = parser.parse_args()
    uvicorn.run(app, host=args.host, port=args.port, log_level="warning")


if __name__ == "__main__":
    main()
