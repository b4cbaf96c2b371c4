"""The API server for the fan-out and query benchmarks, plus a plain WebSocket
broadcast in the same process (the fan-out baseline).

    python -m bench.server --port P --db URL

It is `tradestate serve` (interfaces.cli.serve: the same app, projections and
uvicorn settings) with two bench-only routes registered on the app:
`/bench/broadcast`, a plain WebSocket that receives every published payload,
and `POST /bench/publish`, which sends one payload, built and serialised once,
to every such socket (each socket has its own queue and task, as a GraphQL
subscriber has its own buffer and task).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import json
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import anyio
from litestar import Litestar, WebSocket, get, post, websocket
from litestar.exceptions import WebSocketDisconnect

from application.commands import Commands
from application.inputs import QuoteInput
from infrastructure.logging import configure_logging
from infrastructure.settings import Settings, load_settings
from interfaces.api.app import create_app
from interfaces.cli.serve import uvicorn_server
from interfaces.composition import build_system


class Broadcast:
    """Plain WebSocket subscribers, and the producer both benchmark phases share."""

    def __init__(self, commands: Commands) -> None:
        self.commands = commands
        self.queues: set[asyncio.Queue[str]] = set()
        self.count = 0

    async def publish(self) -> int:
        """Append one quote event through the application (as `ingestQuotes` does;
        GraphQL subscribers get it from the log), then send the same event, built and
        serialised once, to every plain subscriber. Both phases pay the same
        production cost, so CPU per message compares the deliveries."""
        self.count += 1
        quote = QuoteInput("BENCH", Decimal(100) + Decimal(self.count) / 100)
        # Stamped as the GraphQL phase's events are: when the command is sent (the
        # event's own timestamp is taken inside it), so both latencies include the
        # commit and the projections' contention for the store.
        stamped = datetime.now(UTC).isoformat()
        result = await anyio.to_thread.run_sync(self.commands.quotes.ingest_quotes, [quote])
        if self.queues:
            # The same message a GraphQL `events { sequence type timestamp }` subscriber gets.
            event = {"sequence": result.sequence, "type": "QuotesIngested", "timestamp": stamped}
            text = json.dumps({"id": "1", "type": "next", "payload": {"data": {"events": event}}})
            for queue in self.queues:
                queue.put_nowait(text)
        return result.sequence


def register_broadcast(app: Litestar, broadcast: Broadcast) -> None:
    @websocket("/bench/broadcast")
    async def subscriber(socket: WebSocket[Any, Any, Any]) -> None:
        await socket.accept()
        queue: asyncio.Queue[str] = asyncio.Queue()

        async def pump() -> None:
            while True:
                await socket.send_text(await queue.get())

        broadcast.queues.add(queue)
        sender = asyncio.create_task(pump())
        try:
            # Clients send nothing: this returns (or raises) when the client goes.
            with contextlib.suppress(WebSocketDisconnect):
                await socket.receive_data(mode="text")
        finally:
            broadcast.queues.discard(queue)
            sender.cancel()

    @post("/bench/publish", status_code=200)
    async def publish() -> dict[str, int]:
        return {"sequence": await broadcast.publish()}

    @get("/bench/subscribers")
    async def subscribers() -> dict[str, int]:
        return {"subscribers": len(broadcast.queues)}

    app.register(subscriber)
    app.register(publish)
    app.register(subscribers)


def serve(settings: Settings) -> None:
    configure_logging(settings)
    system = build_system(settings)
    try:
        system.projections.start()
        app = create_app(system, settings)
        register_broadcast(app, Broadcast(system.commands))
        server = uvicorn_server(app, settings)
        gc.collect()
        gc.freeze()  # as `tradestate serve` does
        server.run()
    finally:
        system.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--db", required=True)
    args = parser.parse_args()
    serve(load_settings(database_url=args.db, port=args.port, host="127.0.0.1"))


if __name__ == "__main__":
    main()
