"""Identical subscriptions share one execution on a real server, over both protocols,
each client keeping its own framing and ids; `events(after:)` is never shared."""

from __future__ import annotations

import asyncio
import json
import re
import time
from typing import Any

import httpx
import pytest
import websockets

from tests.e2e.server import Server, running_server

pytestmark = pytest.mark.e2e

QUOTES = "subscription { quotes { instrument last } }"
QUOTES_SPACED = "subscription {\n  quotes {\n    instrument\n    last\n  }\n}"
INGEST = "mutation($q: [QuoteInput!]!) { ingestQuotes(quotes: $q) { sequence } }"


def gauge(server: Server, name: str, field: str) -> float:
    text = httpx.get(f"{server.http}/metrics", timeout=5).text
    match = re.search(rf'^{name}{{field="{field}"}} (\S+)$', text, re.MULTILINE)
    return float(match.group(1)) if match else 0.0


def wait_for_gauge(server: Server, name: str, field: str, value: float) -> None:
    deadline = time.monotonic() + 10
    while gauge(server, name, field) != value:
        assert time.monotonic() < deadline, (name, field, gauge(server, name, field), value)
        time.sleep(0.05)


class Client:
    """A raw WebSocket client speaking one protocol, holding one or more operations."""

    def __init__(self, server: Server, protocol: str) -> None:
        self.server = server
        self.protocol = protocol
        self.frames: list[dict[str, Any]] = []
        self.socket: Any = None

    async def open(self) -> None:
        self.socket = await websockets.connect(
            self.server.ws,
            subprotocols=[self.protocol],  # type: ignore[list-item]
        )
        await self.socket.send(json.dumps({"type": "connection_init", "payload": {}}))
        assert json.loads(await self.socket.recv())["type"] == "connection_ack"

    async def subscribe(self, op_id: str, query: str, variables: Any = None) -> None:
        kind = "subscribe" if self.protocol == "graphql-transport-ws" else "start"
        payload = {"query": query, "variables": variables or {}}
        await self.socket.send(json.dumps({"id": op_id, "type": kind, "payload": payload}))

    async def take(self, count: int) -> list[dict[str, Any]]:
        data = [f for f in self.frames if f["type"] in ("next", "data")]
        while len(data) < count:
            frame = json.loads(await asyncio.wait_for(self.socket.recv(), 20))
            if frame["type"] == "ka":
                continue
            self.frames.append(frame)
            if frame["type"] in ("next", "data"):
                data.append(frame)
        return data

    async def close(self) -> None:
        await self.socket.close()


def test_identical_subscriptions_share_one_execution_across_protocols(tmp_path) -> None:
    with running_server(tmp_path) as server:

        async def run() -> None:
            modern = [Client(server, "graphql-transport-ws") for _ in range(3)]
            legacy = [Client(server, "graphql-ws") for _ in range(2)]
            clients = modern + legacy
            for client in clients:
                await client.open()
            # Same document (whitespace differs), two ids on one socket, both protocols.
            await modern[0].subscribe("a", QUOTES)
            await modern[0].subscribe("b", QUOTES_SPACED)
            await modern[1].subscribe("x", QUOTES_SPACED)
            await modern[2].subscribe("7", QUOTES)
            await legacy[0].subscribe("L1", QUOTES)
            await legacy[1].subscribe("L2", QUOTES_SPACED)
            await asyncio.to_thread(wait_for_gauge, server, "tradestate_subscriptions", "quotes", 6)
            assert gauge(server, "tradestate_subscription_executions", "quotes") == 1

            instruments = [f"SH{i}" for i in range(15)]  # one per message: nothing conflates
            for i, name in enumerate(instruments):
                await asyncio.to_thread(
                    server.data, INGEST, {"q": [{"instrument": name, "last": f"{i}.5"}]}
                )
            expected = [
                {"quotes": {"instrument": n, "last": f"{i}.5"}} for i, n in enumerate(instruments)
            ]

            frames = await modern[0].take(2 * len(instruments))
            by_id = {op: [f for f in frames if f["id"] == op] for op in ("a", "b")}
            for op, mine in by_id.items():
                assert [f["payload"]["data"] for f in mine] == expected, op
                assert all(set(f) == {"id", "type", "payload"} for f in mine)
            for client, op in ((modern[1], "x"), (modern[2], "7")):
                mine = await client.take(len(instruments))
                assert [f["payload"]["data"] for f in mine] == expected
                assert {(f["id"], f["type"]) for f in mine} == {(op, "next")}
            for client, op in ((legacy[0], "L1"), (legacy[1], "L2")):
                mine = await client.take(len(instruments))
                assert [f["payload"]["data"] for f in mine] == expected
                assert {(f["id"], f["type"]) for f in mine} == {(op, "data")}

            # Completing one operation leaves the execution to the others.
            await modern[0].socket.send(json.dumps({"id": "a", "type": "complete"}))
            await asyncio.to_thread(wait_for_gauge, server, "tradestate_subscriptions", "quotes", 5)
            assert gauge(server, "tradestate_subscription_executions", "quotes") == 1
            for client in clients:
                await client.close()
            await asyncio.to_thread(
                wait_for_gauge, server, "tradestate_subscription_executions", "quotes", 0
            )

        asyncio.run(asyncio.wait_for(run(), 90))


def test_events_after_is_never_shared_and_different_arguments_run_apart(tmp_path) -> None:
    with running_server(tmp_path) as server:
        head = server.data(INGEST, {"q": [{"instrument": "EA", "last": "1"}]})["ingestQuotes"][
            "sequence"
        ]

        async def run() -> None:
            a, b = Client(server, "graphql-transport-ws"), Client(server, "graphql-transport-ws")
            await a.open()
            await b.open()
            query = "subscription($after: Int) { events(after: $after) { sequence } }"
            await a.subscribe("1", query, {"after": 0})
            await b.subscribe("1", query, {"after": 0})
            await a.subscribe("2", 'subscription { quotes(instruments: ["EA"]) { last } }')
            await b.subscribe("2", 'subscription { quotes(instruments: ["EB"]) { last } }')
            await asyncio.to_thread(wait_for_gauge, server, "tradestate_subscriptions", "events", 2)
            await asyncio.to_thread(wait_for_gauge, server, "tradestate_subscriptions", "quotes", 2)
            assert gauge(server, "tradestate_subscription_executions", "events") == 2
            assert gauge(server, "tradestate_subscription_executions", "quotes") == 2
            # Each catch-up is its own: both see the stored event.
            for client in (a, b):
                frames: list[dict[str, Any]] = []
                while not frames:
                    frames = [
                        f for f in await client.take(len(client.frames) + 1) if f["id"] == "1"
                    ]
                assert frames[0]["payload"]["data"]["events"]["sequence"] == head
            await a.close()
            await b.close()

        asyncio.run(asyncio.wait_for(run(), 60))
