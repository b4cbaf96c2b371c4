"""A WebSocket client that stops reading is closed by the server after
`ws_send_timeout_seconds` (issue 13 item 3): a raw socket, with a small receive
buffer, subscribes to a catch-up over about 11 MB of events and reads nothing. Before
the fix the server waited on it for as long as it stayed (until a keep-alive ping
went unanswered, if ever), holding its tasks and queued payloads."""

from __future__ import annotations

import base64
import json
import os
import socket
import struct
import time
from pathlib import Path

import httpx
import pytest

from tests.e2e.server import running_server

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

SEND_TIMEOUT = 2.0
BATCHES = 16  # of 10 000 quotes, about 700 KB each: more than the buffers on the way hold
BATCH = "mutation($q: [QuoteInput!]!) { ingestQuotes(quotes: $q) { sequence } }"
#: After the client stops reading: the send timeout, then slack for a loaded machine.
CLOSED_WITHIN = SEND_TIMEOUT + 8.0


def frame(payload: dict[str, object]) -> bytes:
    """A masked client text frame (RFC 6455)."""
    data = json.dumps(payload).encode()
    mask = os.urandom(4)
    header = b"\x81"
    if len(data) < 126:
        header += bytes([0x80 | len(data)])
    else:
        header += bytes([0x80 | 126]) + struct.pack("!H", len(data))
    return header + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(data))


def raw_subscriber(port: int) -> socket.socket:
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.connect(("127.0.0.1", port))
    key = base64.b64encode(os.urandom(16)).decode()
    sock.sendall(
        (
            "GET /graphql HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n"
            f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\n"
            "Sec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: graphql-transport-ws\r\n\r\n"
        ).encode()
    )
    answer = b""
    while b"\r\n\r\n" not in answer:
        answer += sock.recv(1)
    assert answer.startswith(b"HTTP/1.1 101"), answer
    sock.sendall(frame({"type": "connection_init"}))
    query = "subscription { events(after: 0) { sequence data } }"
    sock.sendall(frame({"id": "1", "type": "subscribe", "payload": {"query": query}}))
    return sock


def read_until_closed(sock: socket.socket, seconds: float) -> tuple[bool, int]:
    """Read what the server sent; (closed, bytes read) after at most `seconds`."""
    sock.settimeout(0.5)
    deadline = time.monotonic() + seconds
    received = 0
    while time.monotonic() < deadline:
        try:
            chunk = sock.recv(1 << 16)
        except TimeoutError:
            continue
        except ConnectionResetError:
            return True, received
        if not chunk:
            return True, received
        received += len(chunk)
    return False, received


def test_a_websocket_client_that_stops_reading_is_closed(tmp_path: Path) -> None:
    quotes = [
        {"instrument": f"Q{i % 10}", "last": f"{100 + i % 997}.{i % 89:02d}", "bid": "99.5"}
        for i in range(10_000)
    ]
    with running_server(tmp_path, ws_send_timeout_seconds=str(SEND_TIMEOUT)) as server:
        for _ in range(BATCHES):
            server.data(BATCH, {"q": quotes})
        sock = raw_subscriber(server.port)
        try:
            time.sleep(SEND_TIMEOUT + 1.0)  # reads nothing: the server's sends stall
            closed, received = read_until_closed(sock, CLOSED_WITHIN)
        finally:
            sock.close()
        print(f"closed: {closed}, bytes read after the stall: {received}")
        assert closed, f"still open after {CLOSED_WITHIN} s; {received} bytes read"
        assert received < BATCHES * 500_000  # it did not go on to send the whole catch-up
        assert httpx.get(f"{server.http}/health", timeout=5).status_code == 200
        metrics = httpx.get(f"{server.http}/metrics", timeout=10).text
        assert 'tradestate_subscriptions_overflowed_total{field="websocket"} 1.0' in metrics
