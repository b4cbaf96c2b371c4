"""On-demand reconciliation works whichever process holds the broker (SPEC section 3):
a plain `tradestate serve` on PostgreSQL answers `reconcile` with the run that a
`tradestate worker --engine` (the paper broker's process) recorded; with no broker
anywhere (before the worker starts, after it stops) the answer is UNAVAILABLE, at
once, and nothing is appended."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.server import ROOT, Server, environment, running_server
from tests.integration.conftest import fresh_postgres_database

pytestmark = [pytest.mark.e2e, pytest.mark.postgres]

RECONCILE = """mutation($p: ReconciliationPolicy!) { reconcile(policy: $p) {
  sequence reconciliation { id policy completedAt asOf
    mismatches { account instrument localQuantity brokerQuantity difference } } } }"""
QUIET_ENGINE = {
    "engine_feed": "none",
    "engine_strategy": "none",
    "reconcile_interval_seconds": "0",
}
CLI = [sys.executable, "-c", "from interfaces.cli.main import main; main()"]


def start_engine_worker(url: str, log: Path) -> subprocess.Popen[bytes]:
    with log.open("wb") as out:
        return subprocess.Popen(
            [*CLI, "worker", "--engine", "--db", url],
            cwd=ROOT,
            env=environment(**QUIET_ENGINE),
            stdout=out,
            stderr=subprocess.STDOUT,
        )


def reconcile(server: Server, policy: str = "ALERT") -> dict[str, Any]:
    return server.post(RECONCILE, {"p": policy})


def unavailable(body: dict[str, Any]) -> bool:
    errors = body.get("errors") or []
    return bool(errors) and errors[0]["extensions"]["code"] == "UNAVAILABLE"


def test_reconcile_through_serve_runs_in_the_engine_worker(tmp_path: Path, postgres_url: str):
    with (
        fresh_postgres_database(postgres_url) as url,
        running_server(tmp_path, db=url, reconcile_request_timeout_seconds="20") as server,
    ):
        head = server.head()
        started = time.monotonic()
        body = reconcile(server)
        assert unavailable(body), body
        assert "no broker" in body["errors"][0]["message"]
        assert time.monotonic() - started < 5  # refused at once, not after the timeout
        assert server.head() == head  # a refused request appends nothing

        subprocess.run(
            [*CLI, "broker", "set-position", "default", "RECO", "5", "--db", url],
            cwd=ROOT,
            env=environment(),
            check=True,
            capture_output=True,
            timeout=60,
        )
        worker = start_engine_worker(url, tmp_path / "worker.log")
        try:
            deadline = time.monotonic() + 60
            body = reconcile(server)
            while unavailable(body) and time.monotonic() < deadline:
                time.sleep(0.2)  # the worker is starting: no broker yet
                body = reconcile(server)
            assert "errors" not in body, (body, (tmp_path / "worker.log").read_text()[-3000:])
            answer = body["data"]["reconcile"]
            run = answer["reconciliation"]
            assert run["policy"] == "ALERT" and run["completedAt"] is not None
            assert run["mismatches"] == [
                {
                    "account": "default",
                    "instrument": "RECO",
                    "localQuantity": "0",
                    "brokerQuantity": "5",
                    "difference": "5",
                }
            ]
            assert answer["sequence"] >= run["asOf"] > head

            timed = time.monotonic()
            corrected = reconcile(server, "AUTO_CORRECT")
            elapsed = time.monotonic() - timed
            assert "errors" not in corrected, corrected
            assert corrected["data"]["reconcile"]["reconciliation"]["policy"] == "AUTO_CORRECT"
            print(f"reconcile through the store: {elapsed * 1000:.0f} ms")
            position = server.data(
                'query($s: Int) { position(instrument: "RECO", minSequence: $s) { quantity } }',
                {"s": corrected["data"]["reconcile"]["sequence"]},
            )
            assert position["position"]["quantity"] == "5"
            assert reconcile(server)["data"]["reconcile"]["reconciliation"]["mismatches"] == []
        finally:
            worker.send_signal(signal.SIGTERM)
            assert worker.wait(timeout=30) == 0

        head = server.head()
        assert unavailable(reconcile(server))  # the broker's process is gone
        assert server.head() == head
