"""A burst of fills on one position from several processes, with writers and projection
workers killed (SIGKILL) midway: the killed writers, run again, redo their commands
idempotently; the position ends with the exact sum, each fill is recorded once,
`tradestate audit verify` passes and the read models equal the aggregates."""

from __future__ import annotations

import time

import pytest
from eventsourcing.utils import get_topic

from domain.fills import Fill
from domain.positions import Position
from infrastructure.settings import load_settings
from interfaces.composition import build_system
from tests.integration.crash_support import (
    CrashCounts,
    assert_audit_verify_passes,
    caught_up,
    projection_worker,
    sigkill,
    spawn,
)
from tests.integration.engine_support import stored
from tests.integration.fill_burst import INSTRUMENT, SHARED_EVERY, expected_quantity
from tests.integration.test_projections import assert_read_models_match_aggregates

pytestmark = pytest.mark.slow
COUNT = 25
CRASHES = {"w0": "placed:13", "w1": "filled:21", "w2": None}


def burst(url: str, name: str, crash: str | None):
    return spawn("tests.integration.fill_burst", url, name, str(COUNT), *([crash] if crash else []))


def wait_for_head(system, sequence: int, writers, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while system.app.head_sequence() < sequence and any(w.poll() is None for w in writers):
        assert time.monotonic() < deadline, "the writers made no progress"
        time.sleep(0.02)


def test_writers_and_workers_killed_mid_burst_end_with_the_exact_sum(database_url, request):
    counts = CrashCounts(request.node.name)
    system = build_system(load_settings(database_url=database_url))
    try:
        with projection_worker(database_url) as first:
            writers = [burst(database_url, name, crash) for name, crash in CRASHES.items()]
            wait_for_head(system, 100, writers)
            sigkill(first)
            counts.fault()
        with projection_worker(database_url) as second:
            assert [w.wait(timeout=120) for w in writers] == [-9, -9, 0]
            counts.fault(2)
            again = [burst(database_url, name, None) for name, crash in CRASHES.items() if crash]
            assert [w.wait(timeout=120) for w in again] == [0, 0]
            sigkill(second)
            counts.fault()
    finally:
        system.close()
    with caught_up(database_url) as system:
        app = system.commands
        app.store.repository.cache.clear()
        expected = expected_quantity(len(CRASHES), COUNT)
        assert (
            app.store.repository.get(Position.create_id("default", INSTRUMENT)).quantity == expected
        )
        assert system.read.position("default", INSTRUMENT)["quantity"] == expected
        fill_ids = [e.fill_id for e in stored(app, get_topic(Fill.Recorded))]
        shared = len(range(0, COUNT, SHARED_EVERY))
        assert len(fill_ids) == len(set(fill_ids)) == len(CRASHES) * COUNT + shared
        assert len(system.read.trades(instrument=INSTRUMENT, limit=1000)) == len(fill_ids)
        assert_read_models_match_aggregates(system)
        counts.check_log(system)
    assert_audit_verify_passes(database_url)
