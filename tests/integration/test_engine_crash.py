"""A stop-loss fires exactly once even when the engine is killed (SIGKILL) around
the trigger and restarted: one MonitorTriggered, one exit order, filled once; the
position read model is flat and `tradestate audit verify` passes."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from uuid import UUID

import pytest
from eventsourcing.utils import get_topic
from sqlalchemy import func, select

from application.inputs import FillInput, MonitorInput, OrderInput
from domain.ids import monitor_order_client_id, order_id
from domain.monitors import Monitor
from domain.orders import Order
from domain.values import MonitorStatus, OrderStatus
from infrastructure.broker.book import PaperBook, paper_fills
from interfaces.composition import build_system
from tests.integration.crash_support import assert_audit_verify_passes, caught_up
from tests.integration.engine_support import engine_settings, stored

ROOT = Path(__file__).resolve().parents[2]


def falling_quotes(path: Path) -> Path:
    """100 down to 90, then quotes keep coming at 90: the paper broker fills the exit
    order at the first quote after it is placed, and the feed (unpaced) must not have
    run dry by then (it did, now and then, when the fall was the whole file)."""
    rows = ["instrument,last,bid,ask,volume,timestamp"]
    prices = [*range(100, 89, -1), *[90] * 200]
    start = datetime(2026, 1, 5, 14, 30, tzinfo=UTC)
    for second, price in enumerate(prices):
        at = (start + timedelta(seconds=second)).strftime("%Y-%m-%dT%H:%M:%SZ")
        rows.append(f"AAPL,{price},{price - 0.05:.2f},{price + 0.05:.2f},10,{at}")
    path.write_text("\n".join(rows) + "\n")
    return path


def long_with_stop(url: str) -> UUID:
    system = build_system(engine_settings(url, quiet=True))
    app = system.commands
    order = app.orders.place_order(OrderInput("setup-buy", "AAPL", "BUY", Decimal(10))).order
    app.orders.record_fill(FillInput(order.id, "setup-fill", Decimal(10), Decimal(100)))
    monitor = app.monitors.arm_monitor(MonitorInput("AAPL", stop_loss=Decimal(95))).monitor
    system.close()
    return monitor.id


def run_worker(url: str, csv: Path, monitor_id, point: str | None) -> int:
    command = [sys.executable, "-m", "tests.integration.engine_crash_worker", url, str(csv)]
    command.append(str(monitor_id))
    if point:
        command.append(point)
    return subprocess.run(command, cwd=ROOT, env=dict(os.environ), timeout=150).returncode


@pytest.mark.parametrize("point", ["before-evaluate", "after-trigger", "after-fill"])
def test_a_stop_fires_once_across_a_kill_and_restart(database_url, tmp_path, point):
    csv = falling_quotes(tmp_path / "falling.csv")
    monitor_id = long_with_stop(database_url)

    assert run_worker(database_url, csv, monitor_id, point) == -9  # killed by SIGKILL
    assert run_worker(database_url, csv, monitor_id, None) == 0

    system = build_system(engine_settings(database_url, quiet=True))
    try:
        app = system.commands
        exit_id = order_id(monitor_order_client_id(monitor_id))
        triggered = stored(app, get_topic(Monitor.Triggered))
        placed = [e for e in stored(app, get_topic(Order.Placed)) if e.originator_id == exit_id]
        fills = [e for e in stored(app, get_topic(Order.Filled)) if e.originator_id == exit_id]
        assert [e.originator_id for e in triggered] == [monitor_id]
        assert len(placed) == 1 and len(fills) == 1
        assert triggered[0].price <= Decimal(95)
        assert app.store.repository.get(monitor_id).status is MonitorStatus.TRIGGERED
        assert app.store.repository.get(exit_id).status is OrderStatus.FILLED
        assert app.orders.position("default", "AAPL").quantity == 0
        book = PaperBook.at(database_url)
        try:
            with book.engine.connect() as connection:
                count = connection.execute(
                    select(func.count()).where(paper_fills.c.order_id == exit_id)
                ).scalar_one()
            assert count == 1
            assert book.positions() == {("default", "AAPL"): Decimal(-10)}
        finally:
            book.close()
    finally:
        system.close()
    with caught_up(database_url) as projected:
        assert projected.read.position("default", "AAPL")["quantity"] == 0
        assert len(projected.read.orders(instrument="AAPL")) == 2  # the setup buy, one exit
    assert_audit_verify_passes(database_url)
