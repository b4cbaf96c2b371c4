"""Projections on real SQLite and PostgreSQL: equal to a fold of the events,
resumable after SIGKILL, rebuildable blue/green under writes, failures isolated."""

import json
import os
import signal
import subprocess
import sys
import threading
import time
from decimal import Decimal as D
from pathlib import Path
from uuid import uuid4

import pytest
from eventsourcing.persistence import StoredEvent
from sqlalchemy import select

from domain.orders import Order
from domain.positions import Position
from domain.signals import Signal
from infrastructure.projections.rebuild import rebuild
from infrastructure.projections.tracking import active_slot
from infrastructure.readmodels.tables import projection_tables
from infrastructure.settings import load_settings
from interfaces.composition import build_system
from tests.integration.workload import run_workload

ROOT = Path(__file__).resolve().parents[2]
TABLES = (
    "positions",
    "signals",
    "orders",
    "trades",
    "monitors",
    "quotes",
    "reconciliations",
    "mismatches",
)
ALL = [
    "positions", "signals", "orders", "trades", "monitors", "quotes", "reconciliations", "accounts",
]  # fmt: skip


@pytest.fixture
def system(database_url):
    built = build_system(load_settings(database_url=database_url))
    yield built
    built.close()


def caught_up(system, timeout=30):
    assert system.projections.wait_for_blocking(ALL, system.app.head_sequence(), timeout)


def slot_rows(system, slot):
    tables = projection_tables(slot)
    with system.engine.connect() as connection:
        return {
            name: sorted(
                (
                    tuple(sorted((k, str(v)) for k, v in row._mapping.items()))
                    for row in connection.execute(select(getattr(tables, name)))
                ),
            )
            for name in TABLES
        }


def live_slot_rows(system):
    with system.engine.connect() as connection:
        slots = {name: active_slot(connection, name) for name in ALL}
    assert len(set(slots.values())) == 1, slots
    return slot_rows(system, slots["positions"])


def fresh_replay_rows(system):
    """Rebuild into the idle slots without swapping, and read them."""
    with system.engine.connect() as connection:
        live = active_slot(connection, "positions")
    idle = "b" if live == "a" else "a"
    rebuild(system.engine, system.app.recorder, system.app.mapper, swap=False)
    return slot_rows(system, idle)


def assert_read_models_match_aggregates(system):
    app = system.commands
    app.store.repository.cache.clear()
    for row in system.read.positions():
        position = app.store.repository.get(row["id"])
        assert isinstance(position, Position)
        assert (row["quantity"], row["average_price"], row["realized_pnl"], row["status"]) == (
            position.quantity,
            position.average_price,
            position.realized_pnl,
            position.status.value,
        )
    for row in system.read.orders(limit=1000):
        order = app.store.repository.get(row["id"])
        assert isinstance(order, Order)
        assert (row["status"], row["filled_quantity"]) == (
            order.status.value,
            order.filled_quantity,
        )
        assert row["average_fill_price"] == order.average_fill_price
    for row in system.read.signals(limit=1000):
        signal_ = app.store.repository.get(row["id"])
        assert isinstance(signal_, Signal)
        assert row["status"] == signal_.status.value
    for row in system.read.monitors():
        assert row["status"] == app.store.repository.get(row["id"]).status.value


def test_read_models_equal_a_fold_of_the_events(system):
    run_workload(system.commands)
    system.projections.start()
    caught_up(system)
    assert system.read.positions() and system.read.trades() and system.read.quotes()
    assert_read_models_match_aggregates(system)
    assert live_slot_rows(system) == fresh_replay_rows(system)
    assert all(state.error is None and state.lag == 0 for state in system.projections.status())


def test_projections_catch_up_live_and_publish_changes_after_commit(system):
    seen = []
    system.projections.add_listener(seen.append)
    system.projections.start()
    run_workload(system.commands, rounds=10)
    caught_up(system)
    positions = [c for c in seen if c.projection == "positions"]
    assert positions and positions[-1].sequence <= system.app.head_sequence()
    row = system.read.position("default", positions[-1].row["instrument"])
    assert row["as_of"] >= positions[-1].sequence


def test_rebuild_while_writes_continue_swaps_slots_and_queries_keep_answering(system):
    system.projections.start()
    run_workload(system.commands, rounds=10, tag="before")
    caught_up(system)
    failures = []
    stop = threading.Event()

    def keep_querying():
        while not stop.is_set():
            try:
                system.read.positions()
                system.read.orders()
            except Exception as error:  # noqa: BLE001 - any failure is the finding
                failures.append(error)

    def keep_writing():
        run_workload(system.commands, seed=11, rounds=25, tag="during")

    threads = [threading.Thread(target=keep_querying), threading.Thread(target=keep_writing)]
    for thread in threads:
        thread.start()
    rebuild(system.engine, system.app.recorder, system.app.mapper)
    threads[1].join()
    stop.set()
    threads[0].join()
    assert failures == []
    caught_up(system)
    with system.engine.connect() as connection:
        assert active_slot(connection, "positions") == "b"
    assert_read_models_match_aggregates(system)
    assert live_slot_rows(system) == fresh_replay_rows(system)


def test_a_failing_projection_stops_at_its_event_and_the_others_go_on(system):
    run_workload(system.commands, rounds=3)
    orphan = StoredEvent(
        originator_id=uuid4(),
        originator_version=2,
        topic="domain.positions:Position.Adjusted",
        state=json.dumps(
            {
                "timestamp": {"_type_": "datetime_iso", "_data_": "2026-11-24T14:32:00+00:00"},
                "quantity_before": 0,
                "quantity_after": 1,
                "average_price_after": None,
                "reason": "hand-made",
            }
        ).encode(),
    )
    bad_sequence = system.app.recorder.insert_events([orphan])[0]
    run_workload(system.commands, rounds=3, tag="after")
    system.projections.start()
    failing = ("positions", "accounts")  # both apply Position.Adjusted
    assert system.projections.wait_for_blocking(
        [n for n in ALL if n not in failing], system.app.head_sequence(), 30
    )
    deadline = time.monotonic() + 30  # their runners may not have reached it yet
    while True:
        states = {state.name: state for state in system.projections.status()}
        if all(states[n].error for n in failing) or time.monotonic() > deadline:
            break
        time.sleep(0.05)
    for name in failing:
        assert states[name].sequence == bad_sequence - 1
        assert f"event {bad_sequence}" in states[name].error
        assert states[name].lag > 0
    assert states["orders"].lag == 0 and states["orders"].error is None


def wait_until_ready(worker: subprocess.Popen, timeout: float = 60) -> None:
    """Read the worker's stdout until its ready token (anywhere in a line), with a deadline."""
    from tests.integration.projection_worker import READY

    found = threading.Event()

    def scan() -> None:
        assert worker.stdout is not None
        for line in iter(worker.stdout.readline, ""):
            if READY in line:
                found.set()
                return

    threading.Thread(target=scan, daemon=True).start()
    if not found.wait(timeout):
        pytest.fail(f"the projection worker did not say {READY} within {timeout}s")


def test_a_runner_killed_mid_projection_resumes_equal_to_a_fresh_replay(system, database_url):
    run_workload(system.commands, rounds=60)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    for _ in range(2):
        worker = subprocess.Popen(
            [sys.executable, "-m", "tests.integration.projection_worker", database_url],
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            text=True,
        )
        try:
            wait_until_ready(worker)
            run_workload(system.commands, seed=99 + _, rounds=15, tag=f"kill{_}")
        finally:
            worker.send_signal(signal.SIGKILL)
            worker.wait(timeout=10)
    system.projections.start()
    caught_up(system)
    assert_read_models_match_aggregates(system)
    assert live_slot_rows(system) == fresh_replay_rows(system)


def test_quote_decimals_survive_projection_exactly(system):
    from application.inputs import QuoteInput

    system.commands.quotes.ingest_quotes(
        [QuoteInput("EXACT", D("123456789012345678.123456789012345678"))]
    )
    system.projections.start()
    caught_up(system)
    assert system.read.quotes(["EXACT"])[0]["last"] == D("123456789012345678.123456789012345678")


def test_another_process_commit_wakes_runners_without_waiting_for_the_poll(system, database_url):
    """PostgreSQL: LISTEN/NOTIFY; SQLite: the poll fallback. Both well under a second."""
    import time

    if system.url.is_postgres:
        system.projections.tail.poll = 30.0  # only a NOTIFY can make this test pass in time
    system.projections.start()
    other = build_system(load_settings(database_url=database_url))
    try:
        from application.inputs import QuoteInput

        sequence = other.commands.quotes.ingest_quotes([QuoteInput("WAKE", D(1))]).sequence
        started = time.monotonic()
        assert system.projections.wait_for_blocking(["quotes"], sequence, 5)
        assert time.monotonic() - started < 2
    finally:
        other.close()


def test_a_reconciliation_reads_back_by_id_with_its_mismatches(database_url):
    from tests.unit.conftest import FakeBroker

    broker = FakeBroker()
    broker.book = {("default", "RECON"): D(3)}
    built = build_system(load_settings(database_url=database_url), broker=broker)
    try:
        run = built.commands.reconciliation.reconcile("ALERT")
        built.commands.reconciliation.reconcile("ALERT")
        built.projections.start()
        assert built.projections.wait_for_blocking(
            ["reconciliations"], built.app.head_sequence(), 10
        )
        found = built.read.reconciliation(run.reconciliation.id)
        assert found["id"] == run.reconciliation.id and found["policy"] == "ALERT"
        assert [(m["instrument"], m["broker_quantity"]) for m in found["mismatches"]] == [
            ("RECON", D(3))
        ]
        assert len(built.read.reconciliations()) == 2
    finally:
        built.close()


def test_read_your_writes_holds_across_a_slot_swap(system):
    """Events written between a rebuild's last read and its swap are in the live
    runner's old slot, not in the new one: until the runner has moved to the new slot
    and applied them there, `minSequence` must wait, not answer from the new slot."""
    from decimal import Decimal as D

    from application.inputs import FillInput, OrderInput
    from infrastructure.projections.tracking import swap_to

    system.projections.start()

    def buy(n: int) -> int:
        order = system.commands.orders.place_order(
            OrderInput(client_order_id=f"sw{n}", instrument="SWAP", side="BUY",
                       quantity=D(1))
        ).order  # fmt: skip
        return system.commands.orders.record_fill(
            FillInput(order_id=order.id, fill_id=f"swf{n}", quantity=D(1), price=D(5))
        ).sequence

    buy(1)
    caught_up(system)
    with system.engine.connect() as connection:
        live = active_slot(connection, "positions")
    rebuild(system.engine, system.app.recorder, system.app.mapper, ["positions"], swap=False)
    sequence = buy(2)  # after the rebuild's last read: the live runner applies it in `live`
    assert system.projections.wait_for_blocking(["positions"], sequence, 10)
    with system.engine.begin() as connection:
        swap_to(connection, "positions", "b" if live == "a" else "a")  # the rebuild's swap
    assert system.projections.wait_for_blocking(["positions"], sequence, 10)
    assert system.read.position("default", "SWAP")["quantity"] == 2
