"""`tradestate replay`: time travel built aside, and blue/green rebuild, via the real script.

Also home of the helpers the other CLI tests share: a populated store and a
runner of the console script.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal as D
from pathlib import Path

from sqlalchemy import select

from application.inputs import FillInput, MonitorInput, OrderInput, QuoteInput, SignalInput
from infrastructure.readmodels.control import slots_table
from infrastructure.settings import load_settings
from interfaces.composition import build_system

T0 = datetime(2026, 1, 5, 9, 30, tzinfo=UTC)


def tradestate(*args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    """Run the installed console script."""
    script = shutil.which("tradestate") or str(Path(sys.executable).parent / "tradestate")
    env = {**os.environ, "TRADESTATE_LOG_FORMAT": "json", "COLUMNS": "200"}
    return subprocess.run([script, *args], capture_output=True, text=True, timeout=timeout, env=env)


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> datetime:
        return self.now


class Broker:
    def positions(self) -> dict[tuple[str, str], D]:
        return {("default", "ACME"): D(7)}


@dataclass(frozen=True)
class Store:
    url: str
    after_first_fill: int  # the head once the first fill was recorded
    between: datetime  # a wall-clock time after that fill and before the next event
    head: int
    position_id: str
    order_id: str


def populated_store(url: str) -> Store:
    """Orders, fills, a signal, a monitor, quotes and a reconciliation, one minute
    apart, with every projection caught up."""
    clock = Clock()
    system = build_system(load_settings(database_url=url), clock=clock, broker=Broker())
    app = system.commands
    order = app.orders.place_order(
        OrderInput(client_order_id="c1", instrument="ACME", side="BUY", quantity=D(10))
    ).order
    clock.now = T0 + timedelta(minutes=1)
    first = app.orders.record_fill(
        FillInput(order_id=order.id, fill_id="f1", quantity=D(4), price=D(100))
    )
    after_first_fill = app.store.head_sequence()
    time.sleep(0.01)  # event timestamps are the wall clock's, not the app clock's
    between = datetime.now(UTC)
    time.sleep(0.01)
    clock.now = T0 + timedelta(minutes=2)
    signal = SignalInput(strategy="ma", instrument="ACME", side="BUY", strength=D("0.7"))
    app.signals.generate_signal(signal)
    clock.now = T0 + timedelta(minutes=3)
    app.monitors.arm_monitor(MonitorInput(instrument="ACME", stop_loss=D(90)))
    clock.now = T0 + timedelta(minutes=4)
    app.orders.record_fill(FillInput(order_id=order.id, fill_id="f2", quantity=D(6), price=D(110)))
    app.quotes.ingest_quotes(
        [QuoteInput(instrument="ACME", last=D("111.5"), bid=D(111), ask=D(112))]
    )
    clock.now = T0 + timedelta(minutes=5)
    app.reconciliation.reconcile()
    head = app.store.head_sequence()
    system.projections.start()
    assert system.projections.wait_for_blocking(system.projections.names, head, 10)
    system.close()
    return Store(url, after_first_fill, between, head, str(first.position.id), str(order.id))


def test_time_travel_shows_the_state_then_and_leaves_the_live_read_models(database_url):
    store = populated_store(database_url)
    result = tradestate(
        "replay", "--until-sequence", str(store.after_first_fill), "--format", "json",
        "--db", store.url,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    state = json.loads(result.stdout)
    assert state["sequence"] == store.after_first_fill
    [position] = state["positions"]
    assert position["quantity"] == "4" and position["averagePrice"] == "100"
    assert set(position) >= {"id", "account", "instrument", "realizedPnl", "openedAt", "asOf"}
    assert position["id"] == store.position_id
    assert position["openedAt"] == (T0 + timedelta(minutes=1)).isoformat()
    [order] = state["orders"]
    assert order["status"] == "PARTIALLY_FILLED" and order["filledQuantity"] == "4"
    assert state["signals"] == [] and state["monitors"] == []
    [account] = state["accounts"]  # SPEC section 13: the account totals then
    assert account["id"] == "default" and account["asOf"] <= store.after_first_fill
    [totals] = account["totals"]
    assert totals["currency"] is None and totals["openPositions"] == 1
    assert (totals["realizedPnl"], totals["grossExposure"], totals["totalPnl"]) == ("0", "400", "0")

    system = build_system(load_settings(database_url=store.url))
    try:
        [live] = system.read.positions()
        assert live["quantity"] == 10
        assert all(s.sequence == store.head for s in system.projections.status())
    finally:
        system.close()


def test_until_time_is_the_last_event_at_or_before_it(database_url):
    store = populated_store(database_url)
    when = store.between.isoformat().replace("+00:00", "Z")
    result = tradestate("replay", "--until-time", when, "--format", "json", "--db", store.url)
    assert result.returncode == 0, result.stderr
    state = json.loads(result.stdout)
    assert state["sequence"] == store.after_first_fill
    later = tradestate("replay", "--until-time", "2030-01-01T00:00:00+00:00", "--db", store.url)
    assert later.returncode == 0, later.stderr
    assert f"as of sequence {store.head}" in later.stdout and "positions (1)" in later.stdout


def test_rebuild_swaps_in_fresh_tables_with_the_same_rows(database_url):
    store = populated_store(database_url)
    before = _positions(store.url)
    result = tradestate("replay", "--rebuild", "positions", "orders", "--db", store.url)
    assert result.returncode == 0, result.stderr
    assert f"positions: rebuilt to sequence {store.head}" in result.stdout
    system = build_system(load_settings(database_url=store.url))
    try:
        with system.engine.connect() as connection:
            rows = connection.execute(select(slots_table.c.name, slots_table.c.active_slot))
            slots = {name: slot for name, slot in rows}
    finally:
        system.close()
    assert slots["positions"] == "b" and slots["orders"] == "b" and slots["signals"] == "a"
    assert _positions(store.url) == before


def _positions(url: str) -> list[dict[str, object]]:
    system = build_system(load_settings(database_url=url))
    try:
        return system.read.positions()
    finally:
        system.close()


def test_bad_requests_are_errors_on_stderr(tmp_path):
    url = f"sqlite:///{tmp_path / 'empty.db'}"
    both = tradestate("replay", "--rebuild", "--until-sequence", "1", "--db", url)
    assert both.returncode != 0 and "exactly one of" in both.stderr
    unknown = tradestate("replay", "--rebuild", "nonsense", "--db", url)
    assert unknown.returncode == 1 and "unknown projection" in unknown.stderr
    beyond = tradestate("replay", "--until-sequence", "99", "--db", url)
    assert beyond.returncode == 1 and "beyond the head" in beyond.stderr
    naive = tradestate("replay", "--until-time", "2026-01-01T00:00:00", "--db", url)
    assert naive.returncode != 0 and "time zone" in naive.stderr
    assert tradestate("replay", "--help").returncode == 0
