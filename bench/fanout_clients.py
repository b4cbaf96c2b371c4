"""The fan-out benchmark's client side, run in a few processes (spawned, so this
module imports little): many asyncio WebSocket connections each, counting the
events they receive and their publish-to-receive latency.

The clients share the server's two cores, so what they spend per message is
taken from the server and shows as latency. Through the `websockets` client they
cost ~16 µs of CPU per message (0.8 of a core at 50 000 messages/s); parsing the
frames directly, as here, ~11 µs, and p99 fell from ~130-180 ms to ~80-120 ms
for both phases. A client on another machine would cost the server nothing."""

from __future__ import annotations

import asyncio
import base64
import os
import time
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

import orjson

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


class Listener(asyncio.Protocol):
    """One WebSocket connection, spoken directly over an asyncio transport: the
    upgrade, then frames parsed in bulk from each read and decoded with orjson.
    Server frames are unmasked and unfragmented (uvicorn sends each message whole);
    the client's own frames (connection_init, subscribe, pong) are masked."""

    def __init__(self, path: str, graphql: bool, state: Connection, ready: Any) -> None:
        self.path, self.graphql, self.state, self.ready = path, graphql, state, ready
        self.buffer = bytearray()
        self.upgraded = False
        self.closed: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self.transport: Any = None

    def connection_made(self, transport: Any) -> None:
        self.transport = transport
        protocol = "Sec-WebSocket-Protocol: graphql-transport-ws\r\n" if self.graphql else ""
        key = base64.b64encode(os.urandom(16)).decode()
        transport.write(
            f"GET {self.path} HTTP/1.1\r\nHost: bench\r\nUpgrade: websocket\r\n"
            f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\n"
            f"Sec-WebSocket-Version: 13\r\n{protocol}\r\n".encode()
        )

    def connection_lost(self, exc: Exception | None) -> None:
        if not self.closed.done():
            self.closed.set_result(None)

    def send(self, opcode: int, payload: bytes) -> None:
        mask = os.urandom(4)
        masked = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
        header = bytes([0x80 | opcode, 0x80 | len(payload)]) if len(payload) < 126 else (
            bytes([0x80 | opcode, 0x80 | 126]) + len(payload).to_bytes(2, "big")
        )  # fmt: skip
        self.transport.write(header + mask + masked)

    def fail(self, why: str) -> None:
        self.state.error = why
        self.transport.close()

    def data_received(self, data: bytes) -> None:
        buffer = self.buffer
        buffer += data
        if not self.upgraded:
            end = buffer.find(b"\r\n\r\n")
            if end < 0:
                return
            status = bytes(buffer[:end]).split(b"\r\n", 1)[0]
            del buffer[: end + 4]
            if b" 101 " not in status:
                return self.fail(f"upgrade refused: {status!r}")
            self.upgraded = True
            if self.graphql:
                self.send(0x1, orjson.dumps({"type": "connection_init", "payload": {}}))
            else:
                self.ready()
        position, size = 0, len(buffer)
        while size - position >= 2:
            length, start = buffer[position + 1] & 0x7F, position + 2
            if length == 126:
                length, start = int.from_bytes(buffer[start : start + 2], "big"), start + 2
            elif length == 127:
                length, start = int.from_bytes(buffer[start : start + 8], "big"), start + 8
            if start + length > size:
                break
            opcode = buffer[position] & 0x0F
            payload = bytes(buffer[start : start + length])
            position = start + length
            if opcode == 0x1:
                self.message(payload)
            elif opcode == 0x9:
                self.send(0xA, payload)
            elif opcode == 0x8:
                return self.fail(f"closed by the server: {payload!r}")
        del buffer[:position]

    def message(self, raw: bytes) -> None:
        message = orjson.loads(raw)
        kind = message["type"]
        if kind == "next":
            event = message["payload"]["data"]["events"]
            received = time.time()
            state = self.state
            if event["sequence"] > state.seen:
                state.seen = event["sequence"]
                state.count += 1
                state.last_received = received
                sent = datetime.fromisoformat(event["timestamp"]).timestamp()
                state.latencies.append(received - sent)
        elif kind == "connection_ack":
            payload = {"query": SUBSCRIPTION}
            self.send(0x1, orjson.dumps({"id": "1", "type": "subscribe", "payload": payload}))
            self.ready()
        elif kind in ("error", "complete", "connection_error"):
            self.fail(raw.decode())


async def _listen(url: str, graphql: bool, after: int, state: Connection, ready: Any) -> None:
    address = urlsplit(url)
    loop = asyncio.get_running_loop()
    host, port = address.hostname, address.port
    assert host is not None and port is not None, url
    _, listener = await loop.create_connection(
        lambda: Listener(address.path, graphql, state, ready), host, port
    )
    try:
        await listener.closed
    finally:
        listener.transport.close()


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
    cpu = time.process_time()
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
    cpu = time.process_time() - cpu
    results.put((latencies, sum(s.count for s in states), errors, last, cpu))


def client_process(
    url: str, graphql: bool, n: int, after: int, last: Any, ready: Any, results: Any
) -> None:
    asyncio.run(_clients(url, graphql, n, after, last, ready, results))
