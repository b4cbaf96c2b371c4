"""A stop fires exactly once in a plain process (the monitor policy that `serve` and
`worker` run, no engine) killed (SIGKILL) around the trigger and restarted: one
MonitorTriggered, one exit order `monitor-<id>`, on SQLite and PostgreSQL. The
crossing quotes are logged while no process evaluates monitors, so the restarted
policy must find them by following the log from where the work was left."""

from __future__ import annotations

import os
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import pytest
from eventsourcing.utils import get_topic

from application.inputs import FillInput, MonitorInput, OrderInput, QuoteInput
from domain.ids import monitor_order_client_id, order_id
from domain.monitors import Monitor
from domain.orders import Order
from domain.values import MonitorStatus, OrderStatus, OrderType, Side
from interfaces.composition import build_system
from tests.integration.engine_support import engine_settings, stored

ROOT = Path(__file__).resolve().parents[2]


def long_with_stop_and_crossing_quotes(url: str):
    system = build_system(engine_settings(url, quiet=True))
    app = system.commands
    order = app.orders.place_order(OrderInput("setup-buy", "AAPL", "BUY", Decimal(10))).order
    app.orders.record_fill(FillInput(order.id, "setup-fill", Decimal(10), Decimal(100)))
    monitor = app.monitors.arm_monitor(MonitorInput("AAPL", stop_loss=Decimal(95))).monitor
    for price in ("97", "96", "94", "93", "92"):
        app.quotes.ingest_quotes([QuoteInput("AAPL", Decimal(price))])
    system.close()
    return monitor.id


def run_policy(url: str, monitor_id, point: str | None) -> int:
    command = [sys.executable, "-m", "tests.integration.monitor_crash_worker", url]
    command.append(str(monitor_id))
    if point:
        command.append(point)
    return subprocess.run(command, cwd=ROOT, env=dict(os.environ), timeout=150).returncode


@pytest.mark.parametrize("point", ["before-evaluate", "after-trigger"])
def test_a_stop_fires_once_when_the_policy_is_killed_and_restarted(database_url, point):
    monitor_id = long_with_stop_and_crossing_quotes(database_url)

    assert run_policy(database_url, monitor_id, point) == -9  # killed by SIGKILL
    assert run_policy(database_url, monitor_id, None) == 0
    assert run_policy(database_url, monitor_id, None) == 0  # a third start: still once

    system = build_system(engine_settings(database_url, quiet=True))
    try:
        app = system.commands
        exit_id = order_id(monitor_order_client_id(monitor_id))
        triggered = stored(app, get_topic(Monitor.Triggered))
        placed = stored(app, get_topic(Order.Placed))
        assert [e.originator_id for e in triggered] == [monitor_id]
        assert triggered[0].price == Decimal(94)  # the first quote at or below the stop
        assert [e.originator_id for e in placed].count(exit_id) == 1
        assert len(placed) == 2  # the setup buy and the one exit order
        exit_order = app.store.repository.get(exit_id)
        assert (exit_order.side, exit_order.order_type) == (Side.SELL, OrderType.MARKET)
        assert exit_order.quantity == Decimal(10) and exit_order.status is OrderStatus.SUBMITTED
        assert app.store.repository.get(monitor_id).status is MonitorStatus.TRIGGERED
    finally:
        system.close()
