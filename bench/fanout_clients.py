"""The fan-out benchmark's client side, run in a few processes (spawned, so this
module imports little): many asyncio WebSocket connections each, counting the
events they receive and their publish-to-receive latency."""

from __future__ import annotations

import asyncio
import json
import time
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from websockets.asyncio.client import ClientConnection, connect

# Without `after`: only new events, and identical for every client, so shared.
SUBSCRIPTION = "subscription { events { sequence type timestamp } }"
DRAIN_SECONDS = 20.0


@dataclass
class Connection:
    seen: int
    count: int = 0
    last_received: float = 0.0
    latencies: list[float] = field(default_factory=list)
    error: str | None = None


async def _listen(url: str, graphql: bool, after: int, state: Connection, ready: Any) -> None:
    protocols: Any = ["graphql-transport-ws"] if graphql else None
    async with connect(
        url, subprotocols=protocols, ping_interval=None, max_size=None, compression=None
    ) as ws:
        if graphql:
            await _subscribe(ws, after)
        ready()
        async for raw in ws:
            message = json.loads(raw)
            if message["type"] == "next":
                event = message["payload"]["data"]["events"]
                received = time.time()
                if event["sequence"] > state.seen:
                    state.seen = event["sequence"]
                    state.count += 1
                    state.last_received = received
                    sent = datetime.fromisoformat(event["timestamp"]).timestamp()
                    state.latencies.append(received - sent)
            elif message["type"] in ("error", "complete"):
                state.error = raw if isinstance(raw, str) else raw.decode()
                return


async def _subscribe(ws: ClientConnection, after: int) -> None:
    await ws.send(json.dumps({"type": "connection_init", "payload": {}}))
    ack = json.loads(await ws.recv())
    if ack["type"] != "connection_ack":
        raise RuntimeError(f"no connection_ack: {ack}")
    payload = {"query": SUBSCRIPTION}
    await ws.send(json.dumps({"id": "1", "type": "subscribe", "payload": payload}))


async def _clients(
    url: str, graphql: bool, n: int, after: int, last: Any, ready: Any, results: Any
) -> None:
    """Open n connections, say how many opened, then count until every one has
    seen the last sequence the parent names (or the drain deadline passes)."""
    states = [Connection(seen=after) for _ in range(n)]
    opened = 0

    def one_opened() -> None:
        nonlocal opened
        opened += 1

    tasks = []
    for i, state in enumerate(states):
        tasks.append(asyncio.create_task(_listen(url, graphql, after, state, one_opened)))
        if i % 50 == 49:
            await asyncio.sleep(0.05)  # do not storm the server's accept queue
    deadline = time.monotonic() + 60
    while opened + sum(t.done() for t in tasks) < n and time.monotonic() < deadline:
        await asyncio.sleep(0.05)
    ready.put(opened)
    drain_until = None
    while not all(t.done() for t in tasks):
        await asyncio.sleep(0.05)
        target = last.value
        if not target:
            continue
        drain_until = drain_until or time.monotonic() + DRAIN_SECONDS
        if all(s.seen >= target for s in states) or time.monotonic() > drain_until:
            break
    for task in tasks:
        task.cancel()
    outcomes = await asyncio.gather(*tasks, return_exceptions=True)
    errors = [s.error for s in states if s.error] + [
        repr(o) for o in outcomes if isinstance(o, Exception)
    ]
    latencies = [x for s in states for x in s.latencies]
    last = max((s.last_received for s in states), default=0.0)
    results.put((latencies, sum(s.count for s in states), errors, last))


def client_process(
    url: str, graphql: bool, n: int, after: int, last: Any, ready: Any, results: Any
) -> None:
    asyncio.run(_clients(url, graphql, n, after, last, ready, results))
