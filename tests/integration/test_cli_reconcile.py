"""`tradestate broker reconcile` from a process without the broker: refused with no
broker anywhere; answered with the run a `tradestate worker --engine` records (the
request goes through the store), on SQLite (file locks) and PostgreSQL."""

from __future__ import annotations

import os
import signal
import subprocess
import time

import pytest

from tests.integration.test_cli_replay import tradestate

pytestmark = pytest.mark.slow

QUIET_ENGINE = {
    "TRADESTATE_ENGINE_FEED": "none",
    "TRADESTATE_ENGINE_STRATEGY": "none",
    "TRADESTATE_RECONCILE_INTERVAL_SECONDS": "0",
}


def test_reconcile_from_the_cli_runs_in_the_engine_worker(database_url, tmp_path):
    refused = tradestate("broker", "reconcile", "--db", database_url)
    assert refused.returncode == 1
    assert "no broker is configured anywhere" in refused.stderr
    moved = tradestate("broker", "set-position", "default", "CLI", "4", "--db", database_url)
    assert moved.returncode == 0, moved.stderr
    env = {**os.environ, **QUIET_ENGINE}
    log = (tmp_path / "worker.log").open("wb")
    worker = subprocess.Popen(
        ["tradestate", "worker", "--engine", "--db", database_url],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 60
        answer = tradestate("broker", "reconcile", "--policy", "AUTO_CORRECT", "--db", database_url)
        while answer.returncode != 0 and time.monotonic() < deadline:
            time.sleep(0.5)  # the worker is starting
            answer = tradestate(
                "broker", "reconcile", "--policy", "AUTO_CORRECT", "--db", database_url
            )
        assert answer.returncode == 0, (answer.stderr, (tmp_path / "worker.log").read_text())
        assert "(AUTO_CORRECT)" in answer.stdout
        assert "CLI" in answer.stdout and "ours 0 broker 4" in answer.stdout
        again = tradestate("broker", "reconcile", "--db", database_url)
        assert again.returncode == 0 and "no mismatches" in again.stdout
    finally:
        worker.send_signal(signal.SIGTERM)
        assert worker.wait(timeout=30) == 0
        log.close()
