"""A trade done by hand at the paper broker (`tradestate broker set-position`, the real
console script) is found by the engine's next reconciliation; AUTO_CORRECT brings our
position to the broker's quantity."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

from eventsourcing.utils import get_topic
from typer.testing import CliRunner

from application.inputs import OrderInput
from domain.orders import Order
from domain.positions import Position
from domain.reconciliation import Reconciliation
from domain.values import OrderStatus
from interfaces.cli import broker as broker_cli
from interfaces.composition import build_system
from tests.integration.engine_support import engine_settings, started_policies, stored, wait_until

ROOT = Path(__file__).resolve().parents[2]


def tradestate(*args: str) -> subprocess.CompletedProcess[str]:
    script = shutil.which("tradestate") or str(Path(sys.executable).with_name("tradestate"))
    return subprocess.run(
        [script, *args], cwd=ROOT, env=dict(os.environ), capture_output=True, text=True, timeout=60
    )


def quotes(path: Path) -> Path:
    path.write_text(
        "instrument,last,bid,ask,volume,timestamp\n"
        "AAPL,100,99.9,100.1,5,2026-01-05T14:30:00Z\n"
        "AAPL,101,100.9,101.1,5,2026-01-05T14:30:01Z\n"
    )
    return path


def test_a_hand_made_broker_trade_is_found_and_auto_corrected(database_url, tmp_path):
    settings = engine_settings(
        database_url, quiet=True, engine_feed=f"csv:{quotes(tmp_path / 'q.csv')}"
    )
    system = build_system(settings, trading=True)
    app = system.commands
    order = app.orders.place_order(OrderInput("manual-1", "AAPL", "BUY", Decimal(10))).order
    engine = started_policies(system)
    engine.start()
    wait_until(lambda: app.store.repository.get(order.id).status is OrderStatus.FILLED)
    engine.stop()
    engine.close()
    system.close()

    changed = tradestate("broker", "set-position", "default", "AAPL", "7", "--db", database_url)
    assert changed.returncode == 0, changed.stderr
    assert "10 -> 7" in changed.stdout
    shown = CliRunner().invoke(broker_cli.app, ["show", "--db", database_url])
    assert shown.exit_code == 0, shown.output
    assert any(line.split()[1:] == ["AAPL", "7"] for line in shown.output.splitlines())
    refused = CliRunner().invoke(
        broker_cli.app, ["set-position", "default", "bad instrument!", "1", "--db", database_url]
    )
    assert refused.exit_code != 0 and "instrument" in refused.output

    settings = engine_settings(
        database_url, quiet=True, reconcile_interval_seconds=0.2, reconcile_policy="AUTO_CORRECT"
    )
    system = build_system(settings, trading=True)
    app = system.commands
    engine = started_policies(system)
    try:
        engine.start()
        wait_until(lambda: bool(stored(app, get_topic(Position.Adjusted))))
        engine.stop()
        [mismatch] = stored(app, get_topic(Reconciliation.MismatchDetected))
        assert (mismatch.instrument, mismatch.local_quantity, mismatch.broker_quantity) == (
            "AAPL",
            Decimal(10),
            Decimal(7),
        )
        [adjusted] = stored(app, get_topic(Position.Adjusted))
        assert adjusted.quantity_before == Decimal(10) and adjusted.quantity_after == Decimal(7)
        assert adjusted.reason == "reconciliation"
        assert app.orders.position("default", "AAPL").quantity == Decimal(7)
        assert app.reconciliation.reconcile("ALERT").reconciliation.mismatches == []
        assert len(stored(app, get_topic(Order.Placed))) == 1
    finally:
        engine.stop()
        engine.close()
        system.close()
