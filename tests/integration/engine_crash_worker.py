"""An engine process for the crash tests: replays a CSV until a monitor's exit order
is filled, and can kill itself (SIGKILL) at a chosen point around the trigger.

    python -m tests.integration.engine_crash_worker URL CSV MONITOR_ID [CRASH_POINT]

Crash points:
- before-evaluate: on the first evaluation at or below the stop, before it runs;
- after-trigger: right after MonitorTriggered and the exit order committed;
- after-fill: right after the exit order's fill is recorded, before the paper
  broker's book is updated.
Exit status 0 once the exit order is FILLED in the store and in the paper broker's
book (a restart after `after-fill` finds it FILLED at once, and must not stop the
engine before the broker has re-applied that fill to its book), 3 on timeout.
"""

from __future__ import annotations

import logging
import os
import signal
import sys
import time
from decimal import Decimal
from typing import Any
from uuid import UUID

from domain.ids import monitor_order_client_id, order_id
from domain.monitors import Monitor
from domain.orders import Order
from domain.values import OrderStatus
from infrastructure.broker.paper import PaperBroker, paper_fill_id
from interfaces.composition import build_system
from tests.integration.engine_support import engine_settings, started_policies


def die() -> None:
    os.kill(os.getpid(), signal.SIGKILL)


def install_crash(app: Any, monitor_id: UUID, point: str) -> None:
    exit_order_id = order_id(monitor_order_client_id(monitor_id))
    evaluate, record_fill = app.monitors.evaluate_monitor, app.orders.record_fill
    stop_loss: Decimal = app.store.repository.get(monitor_id).stop_loss

    def evaluate_then_maybe_die(monitor: UUID, last: Decimal) -> Any:
        if point == "before-evaluate" and monitor == monitor_id and last <= stop_loss:
            die()
        result = evaluate(monitor, last)
        if point == "after-trigger" and result is not None and result.exit_order is not None:
            die()
        return result

    def fill_then_maybe_die(fill: Any) -> Any:
        result = record_fill(fill)
        if point == "after-fill" and fill.fill_id == paper_fill_id(exit_order_id):
            die()
        return result

    app.monitors.evaluate_monitor = evaluate_then_maybe_die
    app.orders.record_fill = fill_then_maybe_die


def main(url: str, csv_path: str, monitor: str, point: str | None) -> int:
    logging.basicConfig(level=logging.WARNING)
    monitor_id = UUID(monitor)
    settings = engine_settings(url, quiet=True, engine_feed=f"csv:{csv_path}")
    system = build_system(settings, trading=True)
    app = system.commands
    assert isinstance(app.store.repository.get(monitor_id), Monitor)
    if point:
        install_crash(app, monitor_id, point)
    engine = started_policies(system)
    exit_order_id = order_id(monitor_order_client_id(monitor_id))
    engine.start()
    deadline = time.monotonic() + 90
    status = 3
    broker = engine.broker
    assert isinstance(broker, PaperBroker)  # the engine settings' broker
    while time.monotonic() < deadline:
        order = app.store.find(Order, exit_order_id)
        booked = {fill["order_id"] for fill in broker.book.fills(limit=100)}
        if order is not None and order.status is OrderStatus.FILLED and exit_order_id in booked:
            status = 0
            break
        time.sleep(0.05)
    engine.stop()
    engine.close()
    system.close()
    return status


if __name__ == "__main__":
    sys.exit(
        main(sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4] if len(sys.argv) > 4 else None)
    )
