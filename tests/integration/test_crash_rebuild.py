"""A blue/green rebuild killed (SIGKILL) midway, while another process projects live and
writes go on: the live slots stay as they were, `tradestate replay --rebuild` run again
completes, and afterwards `tradestate audit verify` passes and the read models equal
the aggregates."""

from __future__ import annotations

import pytest
from sqlalchemy import Connection, func, select

from application.projections import ALL_PROJECTIONS
from infrastructure.projections.tracking import active_slot, read_tracking
from infrastructure.readmodels.tables import projection_tables
from infrastructure.settings import load_settings
from interfaces.composition import build_system
from tests.integration.crash_support import (
    NAMES,
    CrashCounts,
    assert_audit_verify_passes,
    caught_up,
    projection_worker,
    sigkill,
    spawn,
    writing_in_background,
)
from tests.integration.test_cli_replay import tradestate
from tests.integration.test_projections import assert_read_models_match_aggregates
from tests.integration.workload import run_workload

pytestmark = pytest.mark.slow
TABLES = {p.name: p.tables for p in ALL_PROJECTIONS}


def idle_slot_rows(connection: Connection, name: str) -> int:
    idle = "b" if active_slot(connection, name) == "a" else "a"
    tables = projection_tables(idle)
    return sum(
        connection.execute(select(func.count()).select_from(getattr(tables, table))).scalar_one()
        for table in TABLES[name]
    )


def check_state_after_the_kill(system, killed: str, point: str) -> None:
    """The rebuild reads the log once for all projections and swaps them together at
    the end: killed midway, every projection still reads slot a; `killed`'s idle slot
    holds what its committed pages wrote."""
    with system.engine.connect() as connection:
        slots = {name: active_slot(connection, name) for name in NAMES}
        assert slots == {name: "a" for name in NAMES}
        partial = read_tracking(connection, killed, "b").position
        rows = idle_slot_rows(connection, killed)
    if point == "flush":
        assert (partial, rows) == (0, 0), "the killed batch's transaction left something behind"
    else:
        assert partial > 0 and rows > 0


@pytest.mark.parametrize(
    ("killed", "point", "count"),
    [("positions", "flush", 1), ("orders", "batch", 3)],
    ids=["positions-inside-the-first-batch", "orders-between-batches"],
)
def test_a_rebuild_killed_midway_is_redone_and_equals_a_fresh_replay(
    database_url, killed, point, count, request
):
    crash_counts = CrashCounts(request.node.name)
    system = build_system(load_settings(database_url=database_url))
    try:
        run_workload(system.commands, rounds=30)
        with projection_worker(database_url) as worker:
            with writing_in_background(system.commands, seed=5, rounds=10, tag="during-crash"):
                crashed = spawn(
                    "tests.integration.rebuild_crash_worker",
                    database_url,
                    killed,
                    point,
                    str(count),
                )
                assert crashed.wait(timeout=120) == -9, "the rebuild was not killed midway"
                crash_counts.fault()
            check_state_after_the_kill(system, killed, point)
            with writing_in_background(system.commands, seed=6, rounds=10, tag="during-redo"):
                redo = tradestate("replay", "--rebuild", "--db", database_url)
                assert redo.returncode == 0, redo.stderr
            sigkill(worker)
            crash_counts.fault()
    finally:
        system.close()
    with caught_up(database_url) as system:
        with system.engine.connect() as connection:
            slots = {name: active_slot(connection, name) for name in NAMES}
        assert slots == {name: "b" for name in NAMES}  # the redo swapped them all
        assert_read_models_match_aggregates(system)
        crash_counts.check_log(system)
    assert_audit_verify_passes(database_url)
