"""Resumable read-model subscriptions (issue 16) with the gql client on a real server:
query positions at sequence S, subscribe to `positionUpdates(after: S)` and
`tradeUpdates(after: S)` while fills are written, disconnect mid-stream and reconnect
with the last `asOf` seen: every change arrives, none twice, nothing at or before S.

Both engines. On PostgreSQL a `tradestate worker` runs the projections and the
server's runners stand by, so every change reaches the server through its change
watcher (infrastructure/projections/watch.py), trades included (their `as_of`)."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from gql import Client, gql
from gql.transport.websockets import WebsocketsTransport

from tests.e2e.server import Server, running_server
from tests.e2e.test_multiserver_postgres import LOCKS, start_worker, wait_for_locks
from tests.integration.conftest import fresh_postgres_database

pytestmark = pytest.mark.e2e

ACCOUNT = "resume"
PLACE = "mutation($o: OrderInput!) { placeOrder(input: $o) { order { id } } }"
FILL = "mutation($f: FillInput!) { recordFill(input: $f) { sequence } }"
POSITIONS = """query($m: Int) { positions(account: "resume", minSequence: $m)
    { id instrument quantity asOf } }"""
TRADES = """query($m: Int) { trades(limit: 1000, minSequence: $m) { fillId account asOf } }"""
POSITION_UPDATES = """subscription($a: Int) {
    positionUpdates(account: "resume", after: $a) { id instrument quantity asOf } }"""
TRADE_UPDATES = """subscription($a: Int) {
    tradeUpdates(account: "resume", after: $a) { fillId account sequence asOf } }"""
BEFORE = 4  # positions opened before S
WRITES = 24  # fills after S: the first BEFORE close those positions, the rest open new ones
#: Seconds any one message may take on a loaded machine.
PATIENCE = 60


def fill(server: Server, tag: str, instrument: str, side: str) -> int:
    order = {"clientOrderId": tag, "account": ACCOUNT, "instrument": instrument,
             "side": side, "quantity": "1"}  # fmt: skip
    order_id = server.data(PLACE, {"o": order})["placeOrder"]["order"]["id"]
    filled = {"orderId": order_id, "fillId": tag, "quantity": "1", "price": "10"}
    return int(server.data(FILL, {"f": filled})["recordFill"]["sequence"])


def write_after_s(server: Server, sequences: list[int], started: threading.Event) -> None:
    for i in range(WRITES):
        if i < BEFORE:
            sequences.append(fill(server, f"post-{i}", f"RP{i}", "SELL"))  # closes RP{i}
        else:
            sequences.append(fill(server, f"post-{i}", f"RN{i}", "BUY"))
        if i == WRITES // 4:
            started.set()  # some rows are there to catch up from, the rest come live
        time.sleep(0.05)


async def follow(
    server: Server,
    query: str,
    field: str,
    after: int,
    done: Callable[[list[dict[str, Any]]], bool],
    received: list[dict[str, Any]],
    disconnect_after: int,
) -> None:
    """Subscribe from `after`; after `disconnect_after` messages drop the connection and
    resubscribe with the last `asOf` seen; until `done(received)`."""
    connections = 0
    while not done(received):
        connections += 1
        resume = received[-1]["asOf"] if received else after
        transport = WebsocketsTransport(url=server.ws, subprotocols=["graphql-transport-ws"])
        async with Client(transport=transport) as session:
            request = gql(query)
            request.variable_values = {"a": resume}
            stream = session.subscribe(request).__aiter__()
            taken = 0
            while not done(received) and (connections > 1 or taken < disconnect_after):
                result = await asyncio.wait_for(stream.__anext__(), PATIENCE)
                received.append(result[field])
                taken += 1
            await stream.aclose()
    assert connections >= 2, "the stream was meant to be resumed mid-way"


async def no_more(server: Server, query: str, after: int) -> list[dict[str, Any]]:
    """Whatever a subscription from `after` still sends within a second."""
    extra: list[dict[str, Any]] = []
    transport = WebsocketsTransport(url=server.ws, subprotocols=["graphql-transport-ws"])
    async with Client(transport=transport) as session:
        request = gql(query)
        request.variable_values = {"a": after}
        try:
            async with asyncio.timeout(1.0):
                async for result in session.subscribe(request):
                    extra.append(result)
        except TimeoutError:
            pass
    return extra


def resume_scenario(server: Server) -> None:
    for i in range(BEFORE):
        fill(server, f"pre-{i}", f"RP{i}", "BUY")
    s = server.head()
    queried = server.data(POSITIONS, {"m": s})["positions"]
    assert len(queried) == BEFORE and all(p["asOf"] <= s for p in queried)

    sequences: list[int] = []
    started = threading.Event()
    writer = threading.Thread(target=write_after_s, args=(server, sequences, started))
    writer.start()
    positions: list[dict[str, Any]] = []
    trades: list[dict[str, Any]] = []
    try:
        assert started.wait(PATIENCE)

        async def both() -> None:
            await asyncio.gather(
                follow(server, POSITION_UPDATES, "positionUpdates", s,
                       lambda got: len(got) >= WRITES, positions, disconnect_after=7),
                follow(server, TRADE_UPDATES, "tradeUpdates", s,
                       lambda got: len(got) >= WRITES, trades, disconnect_after=11),
            )  # fmt: skip

        asyncio.run(both())
    finally:
        writer.join()

    last = max(sequences)
    # Every position changed once after S: each change is one (id, asOf), and all came.
    expected = {
        (p["id"], p["asOf"])
        for p in server.data(POSITIONS, {"m": last})["positions"]
        if p["asOf"] > s
    }
    assert len(expected) == WRITES
    got = [(p["id"], p["asOf"]) for p in positions]
    assert len(got) == len(set(got)), "a position state arrived twice"
    assert set(got) == expected
    assert all(p["quantity"] == "0" for p in positions if p["instrument"].startswith("RP"))

    logged = {
        (t["fillId"], t["asOf"])
        for t in server.data(TRADES, {"m": last})["trades"]
        if t["account"] == ACCOUNT and t["asOf"] > s
    }
    got_trades = [(t["fillId"], t["asOf"]) for t in trades]
    assert len(got_trades) == len(set(got_trades)), "a trade arrived twice"
    assert set(got_trades) == logged and len(logged) == WRITES
    assert all(t["asOf"] == t["sequence"] for t in trades)

    # Nothing more is owed past the last states seen.
    assert asyncio.run(no_more(server, POSITION_UPDATES, max(a for _, a in got))) == []
    assert asyncio.run(no_more(server, TRADE_UPDATES, max(a for _, a in got_trades))) == []


def test_resume_after_a_query_and_a_reconnect_on_sqlite(tmp_path: Path) -> None:
    with running_server(tmp_path) as server:
        resume_scenario(server)


@pytest.mark.postgres
def test_resume_through_the_change_watcher_on_postgres(postgres_url: str, tmp_path: Path) -> None:
    with fresh_postgres_database(postgres_url) as url:
        worker = start_worker(url)
        try:
            wait_for_locks(url, LOCKS)  # the worker runs the projections; the server's wait
            with running_server(tmp_path, db=url) as server:
                resume_scenario(server)
        finally:
            if worker.poll() is None:
                worker.kill()
            worker.wait(timeout=10)


ARM = """mutation($m: MonitorInput!) { armMonitor(input: $m) { monitor { id asOf } } }"""
DISARM = "mutation($id: ID!) { disarmMonitor(id: $id) { monitor { id asOf } } }"
SIGNAL = """mutation($s: SignalInput!) { generateSignal(input: $s) { signal { id asOf } } }"""
CATCH_UP = {
    "monitorUpdates": 'monitorUpdates(account: "resume", after: $a) { id status asOf }',
    "signalUpdates": 'signalUpdates(instrument: "MO1", after: $a) { id status asOf }',
    "orderUpdates": 'orderUpdates(instrument: "MO1", after: $a) { id status asOf }',
}


async def states(server: Server, field: str, after: int, count: int) -> list[dict[str, Any]]:
    """The first `count` messages of `field` from `after`, then whatever else comes
    within a second (nothing, if the subscription is right)."""
    got: list[dict[str, Any]] = []
    transport = WebsocketsTransport(url=server.ws, subprotocols=["graphql-transport-ws"])
    async with Client(transport=transport) as session:
        request = gql(f"subscription($a: Int) {{ {CATCH_UP[field]} }}")
        request.variable_values = {"a": after}
        stream = session.subscribe(request).__aiter__()
        while len(got) < count:
            got.append((await asyncio.wait_for(stream.__anext__(), PATIENCE))[field])
        try:
            async with asyncio.timeout(1.0):
                async for result in stream:
                    got.append(result[field])
        except TimeoutError:
            pass
    return got


def test_monitors_signals_and_orders_resume_from_after(tmp_path: Path) -> None:
    """Catch-up on the other read models: only the states past `after`, the latest of
    each row, once."""
    with running_server(tmp_path) as server:
        fill(server, "mo-open", "MO1", "BUY")
        signal = {"strategy": "s", "instrument": "MO1", "side": "BUY", "strength": "0.5"}
        server.data(SIGNAL, {"s": signal})
        first = server.data(ARM, {"m": {"account": ACCOUNT, "instrument": "MO1",
                                        "stopLoss": "5"}})["armMonitor"]["monitor"]  # fmt: skip
        s = server.head()
        disarmed = server.data(DISARM, {"id": first["id"]})["disarmMonitor"]["monitor"]
        second = server.data(ARM, {"m": {"account": ACCOUNT, "instrument": "MO1",
                                         "takeProfit": "50"}})["armMonitor"]["monitor"]  # fmt: skip
        later = server.data(SIGNAL, {"s": signal})["generateSignal"]["signal"]
        fill(server, "mo-close", "MO1", "SELL")
        server.data(POSITIONS, {"m": server.head()})

        head = server.head()
        now = server.data(
            "query($m: Int) { monitors(minSequence: $m) { id asOf } "
            "signals(minSequence: $m) { id asOf } orders(minSequence: $m) { id asOf } }",
            {"m": head},
        )
        past = {name: {(r["id"], r["asOf"]) for r in rows if r["asOf"] > s}
                for name, rows in now.items()}  # fmt: skip
        # The disarmed one, and the second (disarmed too when the close flattened MO1).
        assert {i for i, _ in past["monitors"]} == {disarmed["id"], second["id"]}
        assert {i for i, _ in past["signals"]} == {later["id"]}
        for field, name in [("monitorUpdates", "monitors"), ("signalUpdates", "signals"),
                            ("orderUpdates", "orders")]:  # fmt: skip
            got = asyncio.run(states(server, field, s, len(past[name])))
            assert len(got) == len(past[name]), f"{field} sent a state twice or more"
            assert {(r["id"], r["asOf"]) for r in got} == past[name], field
