"""A plain process (no engine, no broker: what `serve` and `worker` run) following
the log with the monitor policy, which can kill itself (SIGKILL) around a trigger.

    python -m tests.integration.monitor_crash_worker URL MONITOR_ID [CRASH_POINT]

Crash points:
- before-evaluate: on the first evaluation at or below the stop, before it runs
  (mid-follow: the crossing quote is logged, nothing evaluated it yet);
- after-trigger: right after MonitorTriggered and the exit order committed,
  before the policy has moved past that quote.
Exit status 0 once the monitor is TRIGGERED (after a second pass over the quotes
that proves nothing more is placed), 3 on timeout.
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

from domain.monitors import Monitor
from domain.values import MonitorStatus
from interfaces.composition import build_system
from tests.integration.engine_support import engine_settings


def install_crash(app: Any, monitor_id: UUID, point: str) -> None:
    evaluate = app.monitors.evaluate_monitor
    stop_loss: Decimal = app.store.repository.get(monitor_id).stop_loss

    def evaluate_then_maybe_die(monitor: UUID, last: Decimal) -> Any:
        if point == "before-evaluate" and monitor == monitor_id and last <= stop_loss:
            os.kill(os.getpid(), signal.SIGKILL)
        result = evaluate(monitor, last)
        if point == "after-trigger" and result is not None and result.exit_order is not None:
            os.kill(os.getpid(), signal.SIGKILL)
        return result

    app.monitors.evaluate_monitor = evaluate_then_maybe_die


def main(url: str, monitor: str, point: str | None) -> int:
    logging.basicConfig(level=logging.WARNING)
    monitor_id = UUID(monitor)
    system = build_system(engine_settings(url, quiet=True))
    app = system.commands
    if point:
        install_crash(app, monitor_id, point)
    system.start_policies()
    deadline = time.monotonic() + 90
    status = 3
    while time.monotonic() < deadline:
        found = app.store.find(Monitor, monitor_id)
        if found is not None and found.status is MonitorStatus.TRIGGERED:
            status = 0
            break
        time.sleep(0.05)
    system.close()
    return status


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2], sys.argv[3] if len(sys.argv) > 3 else None))
