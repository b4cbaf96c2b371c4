"""An `events` subscriber over graphql-transport-ws that resumes with `after: <last>`
whenever the server ends its subscription (an error, a complete, a dropped socket),
and the checks of what it saw against the stored log."""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass, field
from typing import Any

import psycopg
import websockets

from infrastructure.database import DatabaseUrl
from infrastructure.eventstore import POSTGRES_EVENTS_TABLE

SUBSCRIPTION = "subscription($after: Int) { events(after: $after) { sequence } }"


@dataclass
class EventStream:
    url: str
    last: int
    sequences: list[int] = field(default_factory=list)
    resumes: int = 0
    errors: list[Any] = field(default_factory=list)

    async def run(self) -> None:
        """Subscribe, and resubscribe from the last sequence, until cancelled."""
        while True:
            try:
                await self._session()
            except (OSError, websockets.ConnectionClosed, TimeoutError) as error:
                self.errors.append(f"{type(error).__name__}: {error}")
            self.resumes += 1
            await asyncio.sleep(0.2)

    async def _session(self) -> None:
        protocols: Any = ["graphql-transport-ws"]
        async with websockets.connect(self.url, subprotocols=protocols, open_timeout=5) as socket:
            await socket.send(json.dumps({"type": "connection_init", "payload": {}}))
            assert json.loads(await socket.recv())["type"] == "connection_ack"
            payload = {"query": SUBSCRIPTION, "variables": {"after": self.last}}
            await socket.send(json.dumps({"id": "events", "type": "subscribe", "payload": payload}))
            async for raw in socket:
                message = json.loads(raw)
                kind = message["type"]
                if kind == "ping":
                    await socket.send(json.dumps({"type": "pong"}))
                elif kind == "next" and "errors" not in message["payload"]:
                    sequence = message["payload"]["data"]["events"]["sequence"]
                    self.sequences.append(sequence)
                    self.last = sequence
                elif kind in ("next", "error", "complete"):
                    self.errors.append(message.get("payload"))
                    return

    async def reach(self, sequence: int, timeout: float) -> bool:
        """Wait until the last sequence seen is at least `sequence`."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while self.last < sequence:
            if loop.time() > deadline:
                return False
            await asyncio.sleep(0.05)
        return True


def stored_sequences(url: str, after: int) -> list[int]:
    """The log's sequences after `after`, straight from PostgreSQL."""
    params = DatabaseUrl(url).postgres_params()
    params.pop("schema")
    if not params["password"]:
        params.pop("password")
    with psycopg.connect(**params) as connection:
        rows = connection.execute(
            f"SELECT notification_id FROM {POSTGRES_EVENTS_TABLE} "  # noqa: S608 - a constant
            "WHERE notification_id > %s ORDER BY notification_id",
            (after,),
        ).fetchall()
    return [row[0] for row in rows]


def lost_and_duplicated(seen: list[int], stored: list[int]) -> tuple[int, int]:
    """How many stored sequences `seen` misses, and how many it holds more than once
    (or out of order, or that are not in the log)."""
    lost = len(set(stored) - set(seen))
    duplicates = len(seen) - len(set(seen)) + len(set(seen) - set(stored))
    if seen != sorted(seen):
        duplicates += sum(1 for a, b in zip(seen, seen[1:], strict=False) if b <= a)
    return lost, duplicates
