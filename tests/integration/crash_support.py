"""Real processes for the crash tests: start helper modules, kill them (SIGKILL), and
check a store afterwards with the real `tradestate` script."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from eventsourcing.utils import get_topic
from sqlalchemy import func, select

from application.projections import ALL_PROJECTIONS
from domain.fills import Fill
from infrastructure.projections.tracking import active_slot
from infrastructure.readmodels.tables import projection_tables
from infrastructure.settings import load_settings
from infrastructure.transparency.tables import leaves
from interfaces.composition import System, build_system
from tests.integration.projection_worker import READY
from tests.integration.test_cli_replay import tradestate
from tests.integration.workload import run_workload

ROOT = Path(__file__).resolve().parents[2]
NAMES = [p.name for p in ALL_PROJECTIONS]


def spawn(module: str, *args: str) -> subprocess.Popen[str]:
    """`python -m module args...` from the repository root, stdout piped as text."""
    return subprocess.Popen(
        [sys.executable, "-m", module, *args],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        stdout=subprocess.PIPE,
        text=True,
    )


def wait_for_token(process: subprocess.Popen[str], token: str, timeout: float = 60) -> None:
    """Read stdout until `token` appears in a line (log lines may share it), with a deadline;
    the rest of stdout is drained so the process never blocks on a full pipe."""
    found = threading.Event()

    def scan() -> None:
        assert process.stdout is not None
        for line in iter(process.stdout.readline, ""):
            if token in line:
                found.set()

    threading.Thread(target=scan, daemon=True).start()
    if not found.wait(timeout):
        process.kill()
        pytest.fail(f"{process.args!r} did not say {token} within {timeout}s")


def sigkill(process: subprocess.Popen[str]) -> None:
    """Kill with SIGKILL and check it was that which ended it."""
    process.send_signal(signal.SIGKILL)
    assert process.wait(timeout=10) == -signal.SIGKILL


@contextmanager
def projection_worker(url: str) -> Iterator[subprocess.Popen[str]]:
    """A process running every projection; killed (SIGKILL) on exit if still alive."""
    worker = spawn("tests.integration.projection_worker", url)
    try:
        wait_for_token(worker, READY)
        yield worker
    finally:
        if worker.poll() is None:
            worker.kill()
            worker.wait(timeout=10)


@contextmanager
def writing_in_background(app: Any, *, seed: int, rounds: int, tag: str) -> Iterator[None]:
    """The mixed workload, run in a thread while the block runs; its error is re-raised."""
    errors: list[BaseException] = []

    def write() -> None:
        try:
            run_workload(app, seed=seed, rounds=rounds, tag=tag)
        except BaseException as error:  # noqa: BLE001 - re-raised in the test's thread
            errors.append(error)

    thread = threading.Thread(target=write)
    thread.start()
    try:
        yield
    finally:
        thread.join(timeout=120)
    assert not errors, errors


@contextmanager
def caught_up(url: str, timeout: float = 60) -> Iterator[System]:
    """A system on `url` whose projections (run here) have applied the whole log."""
    system = build_system(load_settings(database_url=url))
    try:
        system.projections.start()
        head = system.app.head_sequence()
        assert system.projections.wait_for_blocking(NAMES, head, timeout), (
            system.projections.status()
        )
        yield system
    finally:
        system.close()


def assert_audit_verify_passes(url: str) -> str:
    """`tradestate audit verify` exits 0; its report."""
    result = tradestate("audit", "verify", "--db", url)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "all checks hold" in result.stdout
    return result.stdout


@dataclass
class CrashCounts:
    """Faults injected, and what the live read models lost or hold twice against the log."""

    test: str
    faults: int = 0
    lost: int = 0
    duplicates: int = 0

    def fault(self, count: int = 1) -> None:
        self.faults += count

    def check_log(self, system: System) -> None:
        """Every sequence of the log once in the transparency log (its follower runs in
        `system`), every recorded fill once in the live trade log; print the counts
        (`-s` shows them) and require 0."""
        recorder = system.app.recorder
        log = [n.id for n in recorder.select_notifications(0, 10**7, inclusive_of_start=False)]
        fills = [
            n.id
            for n in recorder.select_notifications(
                0, 10**7, topics=[get_topic(Fill.Recorded)], inclusive_of_start=False
            )
        ]
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and self._witnessed(system) < max(log, default=0):
            time.sleep(0.05)
        with system.engine.connect() as connection:
            trades = projection_tables(active_slot(connection, "trades")).trades
            chained = list(connection.execute(select(leaves.c.sequence)).scalars())
            traded = list(connection.execute(select(trades.c.sequence)).scalars())
        self.lost = len(set(log) - set(chained)) + len(set(fills) - set(traded))
        self.duplicates = (
            len(log) - len(set(log))
            + len(chained) - len(set(chained) & set(log))
            + len(traded) - len(set(traded) & set(fills))
        )  # fmt: skip
        print(f"CRASH-COUNTS {self.test}: faults={self.faults} lost={self.lost} "
              f"duplicates={self.duplicates} events={len(log)}")  # fmt: skip
        assert (self.lost, self.duplicates) == (0, 0)

    @staticmethod
    def _witnessed(system: System) -> int:
        with system.engine.connect() as connection:
            return connection.execute(select(func.max(leaves.c.sequence))).scalar() or 0
