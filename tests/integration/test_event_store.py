"""The event store on real SQLite and PostgreSQL (same tests, parametrized by engine)."""

import os
import subprocess
import sys
import threading
import time
from decimal import Decimal as D
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text

from application.inputs import FillInput, OrderInput, QuoteInput
from domain.positions import Position
from infrastructure.eventstore import events_table
from infrastructure.settings import load_settings
from interfaces.composition import build_system
from tests.unit.test_position_netting import SHORT_FIRST_FRACTIONAL, WORKED_EXAMPLE

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def system(database_url):
    built = build_system(load_settings(database_url=database_url))
    yield built
    built.close()


@pytest.mark.parametrize("rows", [WORKED_EXAMPLE, SHORT_FIRST_FRACTIONAL], ids=["worked", "short"])
def test_fills_net_into_the_position_as_the_spec_table_says(system, rows):
    app = system.commands
    for i, (side, qty, price, commission, q, a, r) in enumerate(rows):
        order = app.orders.place_order(
            OrderInput(client_order_id=f"o{i}", instrument="ACME", side=side, quantity=D(qty))
        ).order
        app.orders.record_fill(
            FillInput(
                order_id=order.id,
                fill_id=f"f{i}",
                quantity=D(qty),
                price=D(price),
                commission=D(commission),
            )
        )
        app.store.repository.cache.clear() if app.store.repository.cache else None
        position = app.orders.position("default", "ACME")
        assert (position.quantity, position.average_price, position.realized_pnl) == (
            D(q),
            None if a is None else D(a),
            D(r),
        )
    assert position.status.value == ("CLOSED" if rows[-1][4] in ("0", "0.0") else "OPEN")


def test_sequence_of_a_command_is_its_last_notification(system):
    app = system.commands
    order = app.orders.place_order(
        OrderInput(client_order_id="x", instrument="A", side="BUY", quantity=D(1))
    )
    result = app.orders.record_fill(
        FillInput(order_id=order.order.id, fill_id="fx", quantity=D(1), price=D(1))
    )
    assert result.sequence == app.store.head_sequence() == order.sequence + 4  # Opened, 3 changes


@pytest.mark.parametrize("statement", ["UPDATE {t} SET topic = 'x'", "DELETE FROM {t}"])
def test_stored_events_refuse_update_and_delete(system, statement):
    system.commands.quotes.ingest_quotes([QuoteInput("ACME", D(1))])
    with pytest.raises(Exception, match="append-only"), system.engine.begin() as connection:
        connection.execute(text(statement.format(t=events_table(system.url))))
    with system.engine.connect() as connection:
        count = connection.execute(text(f"SELECT COUNT(*) FROM {events_table(system.url)}"))
        assert count.scalar() == 1


def test_long_streams_load_from_a_snapshot(system):
    app = system.commands
    order = app.orders.place_order(
        OrderInput(client_order_id="big", instrument="ACME", side="BUY", quantity=D(1000))
    ).order
    for i in range(450):
        app.orders.record_fill(
            FillInput(order_id=order.id, fill_id=f"s{i}", quantity=D(1), price=D(1))
        )
    position_id = app.orders.position("default", "ACME").id
    snapshots = list(app.store.snapshots.get(position_id, desc=True, limit=1))
    assert snapshots and snapshots[0].originator_version >= 400
    events_after = list(app.store.events.get(position_id, gt=snapshots[0].originator_version))
    assert len(events_after) < 200
    app.store.repository.cache.clear()
    assert app.store.repository.get(position_id).quantity == D(450)


def test_quote_ingest_costs_the_same_at_the_end_as_at_the_start(system):
    app = system.commands
    batch = [QuoteInput("ACME", D("100.25"), bid=D(100), ask=D("100.5"))] * 1000

    def timed(rounds):
        started = time.perf_counter()
        for _ in range(rounds):
            app.quotes.ingest_quotes(batch)
        return (time.perf_counter() - started) / rounds

    first = timed(10)
    timed(80)
    last = timed(10)
    assert last < first * 3, (first, last)


def test_concurrent_writers_produce_a_log_no_resuming_reader_misses(database_url, system):
    """Two processes append while a reader tails the log from its last sequence."""
    recorder = system.app.recorder
    seen: list[int] = []
    stop = threading.Event()

    def tail():
        last = 0
        while not stop.is_set():
            batch = recorder.select_notifications(last, 100, inclusive_of_start=False)
            seen.extend(n.id for n in batch)
            last = batch[-1].id if batch else last
            if not batch:
                time.sleep(0.001)

    reader = threading.Thread(target=tail)
    reader.start()
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    writers = [
        subprocess.Popen(
            [sys.executable, "-m", "tests.integration.writer_process", database_url, f"w{n}", "60"],
            cwd=ROOT,
            env=env,
        )
        for n in range(2)
    ]
    assert [w.wait(timeout=240) for w in writers] == [0, 0]
    time.sleep(0.5)
    stop.set()
    reader.join()
    stored = [n.id for n in recorder.select_notifications(0, 1_000_000, inclusive_of_start=False)]
    assert seen == stored, "the tailing reader missed or reordered committed events"
    assert len(set(seen)) == len(seen)
    system.app.repository.cache.clear()
    position = system.app.repository.get(Position.create_id("default", "SHARED"))
    # 2 writers x 60 fills of 0.5, plus 6 shared fills of 1 applied once each.
    assert position.quantity == D(60) + D(6)


def test_a_write_larger_than_the_socket_buffer_is_stored_and_wakes_waiters(system):
    """On PostgreSQL, psycopg's pipeline mode waited forever on an insert of more than
    the socket's send buffer (4 MiB on Linux by default) after the table lock: such a
    write goes one statement at a time. On SQLite the same write is one insert."""
    from uuid import uuid4

    from eventsourcing.persistence import StoredEvent

    recorder = system.app.recorder
    woken = threading.Event()
    recorder.add_waiter(woken)
    # It did not hang every time: five tries hung at least once in every run seen.
    bigs = [
        [StoredEvent(uuid4(), 1, "tests.big:Event", b'{"x":"%s"}' % (b"%d" % i * 6_000_000))]
        for i in range(5)
    ]
    small = [StoredEvent(uuid4(), 1, "tests.big:Event", b"y" * 100) for _ in range(3)]
    stored: list[Any] = []
    writer = threading.Thread(
        target=lambda: stored.extend(
            [*map(recorder.insert_events, bigs), recorder.insert_events(small)]
        ),
        daemon=True,
    )
    writer.start()
    writer.join(120)
    assert not writer.is_alive(), "an insert hung"
    *firsts, following = stored
    assert woken.is_set()
    last = firsts[-1][0]
    assert following == [last + 1, last + 2, last + 3]
    [notification] = recorder.select_notifications(last, 1)
    assert bytes(notification.state) == bigs[-1][0].state
