"""CLI commands hold memory flat in the size of the log: measured at two sizes.

On SQLite only: growing a PostgreSQL store to 40 000 events and exporting it
twice takes longer than the suite's 300 s timeout on a loaded 2-core machine;
the streaming under test (pages of the log, rows by `yield_per`) is the same
code on both engines."""

from __future__ import annotations

import subprocess
import sys
from decimal import Decimal as D
from pathlib import Path
from uuid import uuid4

import pytest
from eventsourcing.persistence import StoredEvent

from application.inputs import OrderInput, QuoteInput
from infrastructure.projections.rebuild import rebuild
from infrastructure.settings import load_settings
from interfaces.composition import build_system
from tests.integration.conftest import fresh_sqlite_url

SMALL, LARGE = 10_000, 40_000  # events of ~2 KB: the large log holds ~60 MB more state
GROWTH_BOUND_MB = 12.0

PROBE = """
import sys
from interfaces.cli.main import app
try:
    app(sys.argv[1:], prog_name="tradestate")
except SystemExit as exit:
    code = exit.code
else:
    code = 0
with open("/proc/self/status") as status:
    peak = next(int(line.split()[1]) for line in status if line.startswith("VmHWM:"))
sys.stderr.write(f"\\npeak-kb {peak} exit {code}\\n")
"""


def grow_to(url: str, events: int) -> None:
    """Append copies of a real 20-quote event, each its own aggregate, until `events`."""
    system = build_system(load_settings(database_url=url))
    quotes = [QuoteInput(f"SYM{i:02d}", D("101.25") + i, volume=D(1000 + i)) for i in range(20)]
    system.commands.quotes.ingest_quotes(quotes)
    [model] = system.app.recorder.select_notifications(1, 1)
    head = system.app.recorder.max_notification_id() or 0
    while head < events:
        batch = [
            StoredEvent(uuid4(), 1, model.topic, model.state)
            for _ in range(min(5_000, events - head))
        ]
        system.app.recorder.insert_events(batch)
        head += len(batch)
    system.close()


def orders_to(url: str, orders: int) -> None:
    """Append copies of a real order's placement, each its own order with its own client
    order id, until `orders` events; then project them into the live `orders` table."""
    system = build_system(load_settings(database_url=url))
    if not system.app.recorder.max_notification_id():
        system.commands.orders.place_order(
            OrderInput(client_order_id="m0", instrument="MEM", side="BUY", quantity=D(5))
        )
    [model] = system.app.recorder.select_notifications(1, 1)
    head = system.app.recorder.max_notification_id() or 0
    while head < orders:
        numbers = range(head + 1, min(head + 5_000, orders) + 1)
        states = [model.state.replace(b'"m0"', b'"m%d"' % n) for n in numbers]
        batch = [StoredEvent(uuid4(), 1, model.topic, state) for state in states]
        system.app.recorder.insert_events(batch)
        head += len(batch)
    rebuild(system.engine, system.app.recorder, system.app.mapper, ("orders",))
    system.close()


READ_MODELS_PROBE = """
import sys
from infrastructure.readmodel_check import verify_read_models
from infrastructure.settings import load_settings
from interfaces.composition import build_system
system = build_system(load_settings(database_url=sys.argv[1]), check=False)
finding = verify_read_models(system.engine, system.app.recorder, system.app.mapper)
system.close()
with open("/proc/self/status") as status:
    peak = next(int(line.split()[1]) for line in status if line.startswith("VmHWM:"))
sys.stderr.write(f"\\npeak-kb {peak} ok {finding.ok} {finding.summary}\\n")
"""


def peak_mb(*args: str) -> float:
    """The peak RSS (VmHWM, this process's own) of `tradestate ARGS`, in MB."""
    run = subprocess.run(
        [sys.executable, "-c", PROBE, *args], capture_output=True, text=True, timeout=600
    )
    last = run.stderr.strip().splitlines()[-1].split()
    assert last[0] == "peak-kb" and last[3] == "0", run.stderr[-2000:]
    return int(last[1]) / 1024


@pytest.mark.slow
def test_events_export_memory_does_not_grow_with_the_log(tmp_path: Path):
    database_url = fresh_sqlite_url(tmp_path)
    peaks = []
    for size in (SMALL, LARGE):
        grow_to(database_url, size)
        target = tmp_path / f"export-{size}.jsonl"
        peaks.append(peak_mb("events", "export", "-o", str(target), "--db", database_url))
        with target.open() as exported:
            assert sum(1 for _ in exported) == size
    assert peaks[1] - peaks[0] < GROWTH_BOUND_MB, peaks


@pytest.mark.slow
def test_events_history_and_time_travel_memory_do_not_grow_with_the_log(tmp_path: Path):
    database_url = fresh_sqlite_url(tmp_path)
    grow_to(database_url, 10)
    system = build_system(load_settings(database_url=database_url))
    [first] = system.app.recorder.select_notifications(1, 1)
    system.close()
    peaks = []
    for size in (SMALL, LARGE):
        grow_to(database_url, size)
        history = peak_mb("events", "history", str(first.originator_id), "--db", database_url)
        travel = peak_mb("replay", "--until-sequence", str(size), "--format", "json",
                         "--db", database_url)  # fmt: skip
        peaks.append(max(history, travel))
    assert peaks[1] - peaks[0] < GROWTH_BOUND_MB, peaks


@pytest.mark.slow
def test_read_models_check_memory_does_not_grow_with_the_rows(tmp_path: Path):
    """`audit verify`'s check 3 compares every live row with a fresh replay's. Both
    sides are streamed in key order. Holding them, as it once did, took 82 MB more at
    40 000 orders than at 10 000 (136 -> 218 MB peak); streamed, it is flat."""
    database_url = fresh_sqlite_url(tmp_path)
    peaks = []
    for size in (SMALL, LARGE):
        orders_to(database_url, size)
        run = subprocess.run([sys.executable, "-c", READ_MODELS_PROBE, database_url],
                             capture_output=True, text=True, timeout=600)  # fmt: skip
        last = run.stderr.strip().splitlines()[-1].split()
        assert last[:1] == ["peak-kb"] and last[3] == "True", run.stderr[-2000:]
        assert f"orders@{size}" in run.stderr
        peaks.append(int(last[1]) / 1024)
    assert peaks[1] - peaks[0] < GROWTH_BOUND_MB, peaks
