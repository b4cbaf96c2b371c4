"""Read-model changes reach a process's listeners (the API's `positionUpdates`, ...)
whichever process's runner committed them (infrastructure/projections/watch.py):
two systems on one database stand for a worker and a server."""

from __future__ import annotations

import time
from decimal import Decimal as D
from typing import Any

import pytest

from application.inputs import FillInput, OrderInput, QuoteInput
from infrastructure.settings import load_settings
from interfaces.composition import build_system


@pytest.fixture
def two(database_url):
    settings = load_settings(database_url=database_url)
    worker, server = build_system(settings), build_system(settings)
    yield worker, server
    if server.projections.watcher is not None:
        server.projections.watcher.stop()  # started by hand in a test
    server.close()
    worker.close()


def trade(app, n: int, instrument: str, side: str, quantity: int) -> None:
    order = app.orders.place_order(
        OrderInput(client_order_id=f"w{n}", instrument=instrument, side=side,
                   quantity=D(quantity))
    ).order  # fmt: skip
    app.orders.record_fill(
        FillInput(order_id=order.id, fill_id=f"wf{n}", quantity=D(quantity), price=D("10"))
    )


def latest(changes: list[Any], projection: str) -> dict[str, dict[str, Any]]:
    """The last row seen per instrument."""
    return {c.row["instrument"]: c.row for c in changes if c.projection == projection}


def eventually(check, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "not within the timeout"
        time.sleep(0.05)


def test_rows_another_process_committed_reach_this_ones_listeners(two):
    worker, server = two
    worker.projections.start()
    seen: list[Any] = []
    server.projections.add_listener(seen.append)
    server.projections.watch(lambda name: name in ("positions", "quotes"))
    server.projections.watcher.start()  # the watcher alone: this process applies nothing
    time.sleep(0.3)  # it starts from where the read models stand
    for n, (instrument, side, quantity) in enumerate(
        [("WA", "BUY", 5), ("WB", "SELL", 2), ("WA", "SELL", 3), ("WC", "BUY", 1)]
    ):
        trade(worker.commands, n, instrument, side, quantity)
    worker.commands.quotes.ingest_quotes([QuoteInput(instrument="WA", last=D("11"))])

    def arrived() -> bool:
        positions, quotes = latest(seen, "positions"), latest(seen, "quotes")
        quantities = {k: row["quantity"] for k, row in positions.items()}
        return quantities == {"WA": 2, "WB": -2, "WC": 1} and "WA" in quotes

    eventually(arrived)
    sequences = [c.sequence for c in seen if c.projection == "positions"]
    assert sequences == sorted(sequences)
    assert not [c for c in seen if c.projection not in ("positions", "quotes")]


def test_a_listener_sees_every_change_whichever_process_applies_it(two):
    """Both processes run projections. On PostgreSQL the first holds the advisory
    locks and the second's runners stand by; on SQLite both race for each batch."""
    worker, server = two
    worker.projections.start()
    time.sleep(0.3)
    seen: list[Any] = []
    server.projections.add_listener(seen.append)
    server.projections.watch(lambda name: name == "positions")
    server.projections.start()
    for n in range(12):
        app = worker.commands if n % 2 else server.commands
        trade(app, n, f"X{n % 3}", "BUY", 1)
    eventually(lambda: {k: r["quantity"] for k, r in latest(seen, "positions").items()}
               == {"X0": 4, "X1": 4, "X2": 4})  # fmt: skip


def test_a_process_that_applies_its_own_projections_reads_no_rows_again(two):
    _, server = two
    calls = []
    server.projections.watch(lambda name: name == "positions")
    watcher = server.projections.watcher
    original = watcher.read.changes
    watcher.read.changes = lambda *a, **k: calls.append(a) or original(*a, **k)
    seen: list[Any] = []
    server.projections.add_listener(seen.append)
    server.projections.start()
    time.sleep(0.3)
    for n in range(5):
        trade(server.commands, n, "SELF", "BUY", 1)
    eventually(lambda: latest(seen, "positions").get("SELF", {}).get("quantity") == 5)
    watcher.step()
    assert calls == []  # every range was covered by the local runner's own publishing


def test_a_floor_publishes_every_row_past_it_when_watching_starts_afresh(two):
    """A subscription resuming with `after` reads the tracking position, sets it as the
    watcher's floor, then catches up from the rows. Rows another process commits before
    the watcher's first step for that projection must still be published: without the
    floor that step would start listening from where the rows then stand. Trades too,
    now that they carry `as_of`."""
    worker, server = two
    worker.projections.start()
    listening = {"on": False}
    seen: list[Any] = []
    server.projections.add_listener(seen.append)
    server.projections.watch(lambda name: listening["on"] and name in ("positions", "trades"))
    watcher = server.projections.watcher
    trade(worker.commands, 0, "FL", "BUY", 1)
    head = worker.app.recorder.max_notification_id()
    eventually(lambda: all((p or 0) >= head for *_, p in watcher.read.version(["trades"])))
    watcher.step()  # nobody listens: nothing read, nothing published
    (_, slot, generation, floor), = watcher.read.version(["trades"])  # fmt: skip
    listening["on"] = True
    server.projections.watch_from("trades", (slot, generation), floor)
    for n in (1, 2):
        trade(worker.commands, n, "FL", "BUY", 1)
    head = worker.app.recorder.max_notification_id()
    eventually(lambda: all((p or 0) >= head for *_, p in watcher.read.version(["trades"])))
    watcher.step()
    trades = [c.row for c in seen if c.projection == "trades"]
    assert [row["fill_id"] for row in trades] == ["wf1", "wf2"]
    assert all(row["as_of"] > floor for row in trades)
    # Positions had no floor: the first step listens from where they stand.
    assert not [c for c in seen if c.projection == "positions"]
