"""`tradestate watch`: against a fake graphql-transport-ws server started here
(it resumes after its last printed sequence when the connection drops, skips
duplicates, and stops with an error when the server refuses it), and against
a real `tradestate serve` restarted under it."""

from __future__ import annotations

import asyncio
import json
import shutil
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal as D
from pathlib import Path

import pytest
from websockets.asyncio.server import ServerConnection, serve
from websockets.typing import Subprotocol

from application.inputs import QuoteInput
from infrastructure.settings import load_settings
from interfaces.composition import build_system
from tests.integration.test_cli_replay import populated_store, tradestate

LOG = [
    {"sequence": n, "type": "OrderPlaced", "aggregateId": f"id-{n}", "aggregateVersion": 1,
     "timestamp": "2026-01-05T09:30:00+00:00", "data": {"n": n}}
    for n in range(1, 11)
]  # fmt: skip


class FakeServer:
    """Serves LOG; drops the first connection after 3 events, and on resubscribe
    repeats the event before `after` (a duplicate the client must skip)."""

    def __init__(self, refuse: int | None = None) -> None:
        self.refuse = refuse
        self.subscriptions: list[dict] = []
        self.inits: list[dict] = []

    async def handle(self, ws: ServerConnection) -> None:
        init = json.loads(await ws.recv())
        assert init["type"] == "connection_init"
        self.inits.append(init.get("payload") or {})
        if self.refuse is not None:
            await ws.close(self.refuse, "Forbidden")
            return
        await ws.send(json.dumps({"type": "connection_ack"}))
        subscribe = json.loads(await ws.recv())
        assert subscribe["type"] == "subscribe"
        variables = subscribe["payload"]["variables"]
        self.subscriptions.append(variables)
        after = variables["after"]
        first_connection = len(self.subscriptions) == 1
        await ws.send(json.dumps({"type": "ping"}))
        for sent, event in enumerate(e for e in LOG if e["sequence"] >= max(after, 1)):
            if first_connection and sent == 3:
                await ws.close()  # the connection drops mid-stream
                return
            payload = {"data": {"events": event}}
            await ws.send(json.dumps({"id": subscribe["id"], "type": "next", "payload": payload}))
        await asyncio.Event().wait()


@contextmanager
def running(server: FakeServer) -> Iterator[str]:
    loop = asyncio.new_event_loop()
    ready = threading.Event()
    port: list[int] = []
    stop = asyncio.Event()

    async def main() -> None:
        async with serve(
            server.handle, "127.0.0.1", 0, subprotocols=[Subprotocol("graphql-transport-ws")]
        ) as s:
            port.append(s.sockets[0].getsockname()[1])
            ready.set()
            await stop.wait()

    thread = threading.Thread(target=loop.run_until_complete, args=(main(),), daemon=True)
    thread.start()
    assert ready.wait(10)
    try:
        yield f"ws://127.0.0.1:{port[0]}/graphql"
    finally:
        loop.call_soon_threadsafe(stop.set)
        thread.join(10)


def test_watch_resumes_after_its_last_sequence_without_gap_or_duplicate():
    server = FakeServer()
    with running(server) as url:
        result = tradestate("watch", "--url", url, "--token", "s3cret", "--types", "OrderPlaced",
                            "--count", "8", "--retries", "3", timeout=60)  # fmt: skip
    assert result.returncode == 0, result.stderr
    printed = [json.loads(line) for line in result.stdout.splitlines()]
    assert [e["sequence"] for e in printed] == list(range(1, 9))
    assert printed[0] == LOG[0]
    assert [s["after"] for s in server.subscriptions] == [0, 3]
    assert server.subscriptions[0]["types"] == ["OrderPlaced"]
    assert server.inits[0] == {"authorization": "Bearer s3cret"}
    assert "resuming after 3" in result.stderr


def test_watch_stops_with_an_error_when_the_server_refuses_it():
    with running(FakeServer(refuse=4403)) as url:
        result = tradestate("watch", "--url", url, "--retries", "3", timeout=60)
    assert result.returncode == 1
    assert "error: the server closed the connection: 4403 Forbidden" in result.stderr


def test_watch_gives_up_after_its_retries_when_nothing_listens():
    result = tradestate("watch", "--url", "ws://127.0.0.1:9/graphql", "--retries", "1",
                        timeout=60)  # fmt: skip
    assert result.returncode == 1 and "gave up after 1 retries" in result.stderr


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def serving(url: str, port: int) -> Iterator[None]:
    """`tradestate serve` on `port` until the block ends."""
    script = shutil.which("tradestate") or str(Path(sys.executable).parent / "tradestate")
    server = subprocess.Popen(
        [script, "serve", "--db", url, "--port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=1):
                    break
            except OSError:
                if server.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("tradestate serve did not start") from None
                time.sleep(0.2)
        yield
    finally:
        server.terminate()
        server.wait(15)


@pytest.mark.e2e
def test_watch_on_a_real_server_survives_a_restart_losing_nothing(database_url):
    store = populated_store(database_url)
    port = free_port()
    script = shutil.which("tradestate") or str(Path(sys.executable).parent / "tradestate")
    url = f"ws://127.0.0.1:{port}/graphql"
    with serving(store.url, port):
        watcher = subprocess.Popen(
            [script, "watch", "--url", url, "--count", str(store.head + 1), "--retries", "30"],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        timer = threading.Timer(90, watcher.kill)
        timer.start()
        assert watcher.stdout is not None
        seen = [json.loads(watcher.stdout.readline()) for _ in range(store.head)]
    system = build_system(load_settings(database_url=store.url))
    system.commands.quotes.ingest_quotes([QuoteInput(instrument="ACME", last=D(120))])
    system.close()
    with serving(store.url, port):
        out, err = watcher.communicate(timeout=60)
    timer.cancel()
    assert watcher.returncode == 0, err
    seen += [json.loads(line) for line in out.splitlines()]
    assert [e["sequence"] for e in seen] == list(range(1, store.head + 2))
    assert seen[-1]["type"] == "QuotesIngested" and "resuming after" in err
