"""Two `tradestate serve` processes and one `tradestate worker` on one PostgreSQL database:
mutations go to both servers, an `events` subscriber on each sees every event once and
in order, and a `positionUpdates` subscriber on each sees the position the worker's
runner applied (the servers' runners stand by); the worker, killed (SIGKILL), hands the
projections to the servers' runners (advisory locks) and the read models keep advancing."""

from __future__ import annotations

import asyncio
import json
import signal
import subprocess
import sys
import time
from decimal import Decimal
from typing import Any

import psycopg
import pytest
import websockets

from application.projections import ALL_PROJECTIONS
from infrastructure.database import DatabaseUrl
from tests.e2e.event_stream import EventStream, lost_and_duplicated, stored_sequences
from tests.e2e.server import ROOT, Server, environment, running_server
from tests.integration.conftest import fresh_postgres_database

pytestmark = [pytest.mark.e2e, pytest.mark.postgres, pytest.mark.slow]

PROJECTIONS = len(ALL_PROJECTIONS)
# One per projection, the monitor policy's (ADR 013) and the tree follower's (ADR 014).
LOCKS = PROJECTIONS + 2
PLACE = "mutation($o: OrderInput!) { placeOrder(input: $o) { order { id } sequence } }"
FILL = "mutation($f: FillInput!) { recordFill(input: $f) { sequence } }"
POSITION = 'query($s: Int) { position(instrument: "MULTI", minSequence: $s) { quantity asOf } }'


def start_worker(url: str) -> subprocess.Popen[bytes]:
    command = [sys.executable, "-c", "from interfaces.cli.main import main; main()", "worker"]
    return subprocess.Popen(
        [*command, "--db", url],
        cwd=ROOT,
        env=environment(),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def advisory_locks(url: str) -> int:
    """Advisory locks granted in this database (one per active projection runner)."""
    params = DatabaseUrl(url).postgres_params()
    params.pop("schema")
    params.pop("password")
    with psycopg.connect(**params) as connection:
        row = connection.execute(
            "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted "
            "AND database = (SELECT oid FROM pg_database WHERE datname = current_database())"
        ).fetchone()
    assert row is not None  # count(*) always answers one row
    return int(row[0])


def wait_for_locks(url: str, count: int, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while advisory_locks(url) != count:
        assert time.monotonic() < deadline, f"{advisory_locks(url)} projection locks held"
        time.sleep(0.1)


def buy_and_fill(server: Server, i: int) -> int:
    order = server.data(
        PLACE,
        {"o": {"clientOrderId": f"multi-{i}", "instrument": "MULTI", "side": "BUY",
               "quantity": "0.1"}},
    )["placeOrder"]["order"]  # fmt: skip
    filled = server.data(
        FILL, {"f": {"orderId": order["id"], "fillId": f"multi-fill-{i}", "quantity": "0.1",
                     "price": "10"}}
    )  # fmt: skip
    return int(filled["recordFill"]["sequence"])


UPDATES = 'subscription { positionUpdates(instrument: "MULTI") { quantity asOf } }'


async def position_updates(url: str, quantities: list[Decimal]) -> None:
    """Collect the quantities `positionUpdates` sends until cancelled."""
    protocols: Any = ["graphql-transport-ws"]
    async with websockets.connect(url, subprotocols=protocols, open_timeout=5) as socket:
        await socket.send(json.dumps({"type": "connection_init", "payload": {}}))
        assert json.loads(await socket.recv())["type"] == "connection_ack"
        payload = {"query": UPDATES}
        await socket.send(json.dumps({"id": "p", "type": "subscribe", "payload": payload}))
        async for raw in socket:
            message = json.loads(raw)
            if message["type"] == "ping":
                await socket.send(json.dumps({"type": "pong"}))
            elif message["type"] == "next":
                position = message["payload"]["data"]["positionUpdates"]
                quantities.append(Decimal(position["quantity"]))


def test_two_servers_and_a_worker_share_events_and_projection_duty(postgres_url, tmp_path):
    with fresh_postgres_database(postgres_url) as url:
        worker = start_worker(url)
        try:
            wait_for_locks(url, LOCKS)  # the worker runs every projection and the monitor policy
            with (
                running_server(tmp_path, db=url) as first,
                running_server(tmp_path, db=url) as second,
            ):
                assert advisory_locks(url) == LOCKS  # the servers' runners wait
                run_load(url, worker, [first, second])
        finally:
            if worker.poll() is None:
                worker.kill()
            worker.wait(timeout=10)


def showing(seen: list[Decimal], quantity: Decimal) -> Any:
    return lambda: bool(seen) and seen[-1] == quantity


async def until(check: Any, timeout: float = 15) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "positionUpdates did not arrive"
        await asyncio.sleep(0.05)


def run_load(url: str, worker: subprocess.Popen[bytes], servers: list[Server]) -> None:
    start = servers[0].head()
    streams = [EventStream(server.ws, start) for server in servers]
    updates: list[list[Decimal]] = [[] for _ in servers]
    rounds = 30

    async def scenario() -> int:
        tasks = [asyncio.ensure_future(stream.run()) for stream in streams]
        tasks += [
            asyncio.ensure_future(position_updates(server.ws, seen))
            for server, seen in zip(servers, updates, strict=True)
        ]
        await asyncio.sleep(0.5)  # all subscribed
        last = 0
        for i in range(rounds):
            last = await asyncio.to_thread(buy_and_fill, servers[i % 2], i)
            if i == rounds // 2:
                # Before the kill only the worker's runners apply: the servers' updates
                # come from their watchers.
                for seen in updates:
                    await until(showing(seen, Decimal("0.1") * (i + 1)))
                worker.send_signal(signal.SIGKILL)
                assert worker.wait(timeout=10) == -signal.SIGKILL
        reached = [await stream.reach(last, 30) for stream in streams]
        for seen in updates:
            await until(showing(seen, Decimal("0.1") * rounds))
        for task in tasks:
            task.cancel()
        assert reached == [True, True], [s.errors for s in streams]
        return last

    head = asyncio.run(asyncio.wait_for(scenario(), 120))
    wait_for_locks(url, LOCKS)  # the servers took the projections over
    for server in servers:
        position = server.data(POSITION, {"s": head})["position"]
        assert Decimal(position["quantity"]) == Decimal("0.1") * rounds
        status = server.data("{ systemStatus { headSequence projections { name lag } } }")
        assert status["systemStatus"]["headSequence"] == head
    stored = stored_sequences(url, start)
    for stream in streams:
        lost, duplicates = lost_and_duplicated(stream.sequences, stored)
        print(f"CRASH-COUNTS multiserver {stream.url}: faults=1 lost={lost} "
              f"duplicates={duplicates} events={len(stored)} resumes={stream.resumes}")  # fmt: skip
        assert (lost, duplicates) == (0, 0)
        assert stream.sequences == stored
