"""`subscription { systemStatus(intervalMs) }`: the dashboard's lag panel and heartbeat.
It pushes the store's head and each projection's progress at once and then every
interval (so a write shows in a later message), and refuses an interval out of range
with BAD_USER_INPUT."""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

import websockets

from tests.e2e.browser import buy_and_fill
from tests.e2e.server import Server

STATUS = (
    "subscription($i: Int) { systemStatus(intervalMs: $i) "
    "{ headSequence projections { name lag stale } } }"
)


async def messages(server: Server, variables: dict[str, Any], count: int) -> list[dict[str, Any]]:
    protocols: Any = ["graphql-transport-ws"]
    async with websockets.connect(server.ws, subprotocols=protocols, open_timeout=5) as socket:
        await socket.send(json.dumps({"type": "connection_init", "payload": {}}))
        assert json.loads(await socket.recv())["type"] == "connection_ack"
        payload = {"query": STATUS, "variables": variables}
        await socket.send(json.dumps({"id": "s", "type": "subscribe", "payload": payload}))
        got: list[dict[str, Any]] = []
        while len(got) < count:
            message = json.loads(await asyncio.wait_for(socket.recv(), 10))
            if message["type"] == "ping":
                await socket.send(json.dumps({"type": "pong"}))
            elif message["type"] in ("next", "error"):
                got.append({"at": time.monotonic(), **message})
            if message["type"] in ("error", "complete") or "errors" in message.get("payload", {}):
                break
        return got


def test_system_status_is_pushed_every_interval_and_follows_the_log(server: Server) -> None:
    async def scenario() -> list[dict[str, Any]]:
        task = asyncio.ensure_future(messages(server, {"i": 250}, 8))
        await asyncio.sleep(0.6)
        await asyncio.to_thread(buy_and_fill, server, "status-feed-1")
        return await task

    got = asyncio.run(scenario())
    statuses = [m["payload"]["data"]["systemStatus"] for m in got]
    heads = [s["headSequence"] for s in statuses]
    assert heads == sorted(heads) and heads[-1] > heads[0]
    assert {p["name"] for p in statuses[-1]["projections"]} >= {"positions", "orders", "trades"}
    gaps = [b["at"] - a["at"] for a, b in zip(got, got[1:], strict=False)]
    assert 0.15 < sum(gaps) / len(gaps) < 1.5, gaps  # about 250 ms, with slack for load


def test_an_interval_out_of_range_is_bad_user_input(server: Server) -> None:
    for interval in (1, 60_001):
        (message,) = asyncio.run(messages(server, {"i": interval}, 1))
        errors = message["payload"] if message["type"] == "error" else message["payload"]["errors"]
        assert errors[0]["extensions"]["code"] == "BAD_USER_INPUT"
        assert "intervalMs must be within 250..60000" in errors[0]["message"]
