"""Stops fire in every deployment (SPEC section 3), not only inside the demo engine:
a monitor armed over GraphQL on a plain `tradestate serve` (no --demo) triggers on
quotes sent by `ingestQuotes`, with one MonitorTriggered and one MARKET exit order
`monitor-<id>`; the same with a `worker` and two servers on PostgreSQL (whichever
process holds the policy's lock evaluates), and a server taking over from a worker
killed (SIGKILL) while it held that lock. More crashes: tests/integration/test_monitor_crash.py."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
import zlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import psycopg
import pytest

from infrastructure.database import DatabaseUrl
from tests.e2e.server import ROOT, Server, environment, running_server
from tests.integration.conftest import fresh_postgres_database

pytestmark = [pytest.mark.e2e]

PLACE = "mutation($o: OrderInput!) { placeOrder(input: $o) { order { id } } }"
FILL = "mutation($f: FillInput!) { recordFill(input: $f) { sequence } }"
ARM = "mutation($m: MonitorInput!) { armMonitor(input: $m) { monitor { id status } } }"
INGEST = "mutation($q: [QuoteInput!]!) { ingestQuotes(quotes: $q) { accepted sequence } }"
MONITORS = "{ monitors { id status triggerReason triggerPrice exitOrderId } }"
ORDERS = '{ orders(instrument: "STOP") { id clientOrderId side type quantity } }'
TRIGGERED = '{ events(types: ["MonitorTriggered"], limit: 1000) { events { aggregateId } } }'
EXIT_PLACED = '{ events(types: ["OrderPlaced"], limit: 1000) { events { aggregateId } } }'


def open_long_with_stop(server: Server, stop: str = "95") -> str:
    order = server.data(
        PLACE,
        {"o": {"clientOrderId": "stop-buy", "instrument": "STOP", "side": "BUY", "quantity": "10"}},
    )["placeOrder"]["order"]
    server.data(
        FILL,
        {"f": {"orderId": order["id"], "fillId": "stop-fill", "quantity": "10", "price": "100"}},
    )
    armed = server.data(ARM, {"m": {"instrument": "STOP", "stopLoss": stop}})["armMonitor"]
    assert armed["monitor"]["status"] == "ACTIVE"
    return str(armed["monitor"]["id"])


def ingest(server: Server, *prices: str) -> None:
    quotes = [{"instrument": "STOP", "last": price} for price in prices]
    assert server.data(INGEST, {"q": quotes})["ingestQuotes"]["accepted"] == len(prices)


def eventually(check: Callable[[], Any], timeout: float = 30.0) -> Any:
    """The first truthy result of `check`; slack for a loaded machine."""
    deadline = time.monotonic() + timeout
    while True:
        found = check()
        if found:
            return found
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.1)


def triggered(server: Server, monitor_id: str) -> dict[str, Any] | None:
    for monitor in server.data(MONITORS)["monitors"]:
        if monitor["id"] == monitor_id and monitor["status"] != "ACTIVE":
            return monitor
    return None


def assert_fired_once(server: Server, monitor_id: str, at_most: str = "95") -> None:
    monitor = eventually(lambda: triggered(server, monitor_id))
    assert monitor["status"] == "TRIGGERED" and monitor["triggerReason"] == "STOP_LOSS"
    assert float(monitor["triggerPrice"]) <= float(at_most)
    exits = eventually(
        lambda: [o for o in server.data(ORDERS)["orders"] if o["clientOrderId"].startswith("mon")]
    )
    assert len(exits) == 1
    [exit_order] = exits
    assert exit_order["clientOrderId"] == f"monitor-{monitor_id}"
    assert exit_order["id"] == monitor["exitOrderId"]
    assert (exit_order["side"], exit_order["type"], float(exit_order["quantity"])) == (
        "SELL",
        "MARKET",
        10.0,
    )
    events = server.data(TRIGGERED)["events"]["events"]
    assert [e["aggregateId"] for e in events] == [monitor_id]
    placed = server.data(EXIT_PLACED)["events"]["events"]
    assert [e["aggregateId"] for e in placed].count(exit_order["id"]) == 1


def test_a_stop_armed_on_plain_serve_fires_on_ingested_quotes(tmp_path: Path) -> None:
    with running_server(tmp_path) as server:
        monitor_id = open_long_with_stop(server)
        ingest(server, "99", "96")
        time.sleep(1.0)  # evaluated, and nothing crossed yet
        assert triggered(server, monitor_id) is None
        crossed = time.monotonic()
        ingest(server, "94.5", "94", "93")
        eventually(lambda: triggered(server, monitor_id))
        print(f"stop crossed -> TRIGGERED in the read model: {time.monotonic() - crossed:.3f} s")
        assert_fired_once(server, monitor_id, at_most="94.5")
        ingest(server, "90", "89")  # later quotes do not fire it again
        time.sleep(1.0)
        assert_fired_once(server, monitor_id, at_most="94.5")


def mkdir(path: Path) -> Path:
    path.mkdir()
    return path


def start_worker(url: str) -> subprocess.Popen[bytes]:
    command = [sys.executable, "-c", "from interfaces.cli.main import main; main()", "worker"]
    return subprocess.Popen(
        [*command, "--db", url],
        cwd=ROOT,
        env=environment(),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


@pytest.mark.postgres
def test_a_stop_fires_once_with_a_worker_and_two_servers_on_postgres(
    tmp_path: Path, postgres_url: str
) -> None:
    with fresh_postgres_database(postgres_url) as url:
        worker = start_worker(url)
        try:
            with (
                running_server(mkdir(tmp_path / "a"), db=url) as first,
                running_server(mkdir(tmp_path / "b"), db=url) as second,
            ):
                monitor_id = open_long_with_stop(first)
                ingest(second, "96", "94")
                ingest(first, "93")
                assert_fired_once(first, monitor_id, at_most="94")
                assert_fired_once(second, monitor_id, at_most="94")
        finally:
            worker.send_signal(signal.SIGTERM)
            assert worker.wait(timeout=30) == 0


def monitor_lock_held(url: str) -> bool:
    """Whether some session holds the monitor policy's advisory lock (ADR 013)."""
    params = DatabaseUrl(url).postgres_params()
    params.pop("schema")
    params.pop("password")
    key = zlib.crc32(b"tradestate:policy:monitor-policy")
    with psycopg.connect(**params) as connection:
        row = connection.execute(
            "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted "
            "AND classid = 0 AND objid = %s::bigint::oid",
            (key,),
        ).fetchone()
    return bool(row and row[0])


@pytest.mark.postgres
def test_a_server_takes_over_the_monitors_of_a_killed_worker(
    tmp_path: Path, postgres_url: str
) -> None:
    with fresh_postgres_database(postgres_url) as url:
        worker = start_worker(url)
        try:
            eventually(lambda: monitor_lock_held(url), timeout=60)  # the worker evaluates
            with running_server(tmp_path, db=url) as server:
                monitor_id = open_long_with_stop(server)
                worker.send_signal(signal.SIGKILL)
                assert worker.wait(timeout=30) == -signal.SIGKILL
                ingest(server, "96", "94", "93")
                assert_fired_once(server, monitor_id, at_most="94")
        finally:
            if worker.poll() is None:
                worker.kill()
                worker.wait()
