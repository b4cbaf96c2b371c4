"""The one-pass rebuild and the projection write path, on real SQLite and PostgreSQL:
page boundaries, the row cache, deferred quote rows and the driver-level upsert
change nothing a projection writes."""

import copy
import json
import time
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal as D
from uuid import uuid4

import pytest
from eventsourcing.persistence import StoredEvent
from sqlalchemy import select

from application.inputs import FillInput, OrderInput, QuoteInput
from application.projections.accounts import AccountsProjection
from application.projections.orders import OrdersProjection
from application.projections.positions import PositionsProjection
from infrastructure.projections.rebuild import larger_cache, rebuild
from infrastructure.projections.runner import ProjectionRunner
from infrastructure.projections.store import SqlRowStore, upsert_statement
from infrastructure.projections.tracking import active_slot
from infrastructure.readmodels.tables import projection_tables
from infrastructure.settings import load_settings
from interfaces.composition import build_system
from tests.integration.test_projections import (
    assert_read_models_match_aggregates,
    fresh_replay_rows,
    slot_rows,
)
from tests.integration.workload import run_workload


@pytest.fixture
def system(database_url):
    built = build_system(load_settings(database_url=database_url))
    yield built
    built.close()


def rebuilt_rows(system, page):
    """Rebuild everything into the idle slots with `page`, and read them."""
    with system.engine.connect() as connection:
        idle = "b" if active_slot(connection, "positions") == "a" else "a"
    rebuild(system.engine, system.app.recorder, system.app.mapper, page=page, swap=False)
    return slot_rows(system, idle)


def test_tiny_pages_rebuild_the_same_rows_as_one_big_page(system):
    """Every page boundary splits orders, positions and monitors across batches, so
    rows come back from the row cache or the database between them."""
    run_workload(system.commands, rounds=30)
    one_page = rebuilt_rows(system, page=100_000)
    assert one_page["positions"] and one_page["orders"] and one_page["quotes"]
    assert rebuilt_rows(system, page=3) == one_page


def test_the_latest_quote_of_each_instrument_wins_within_and_across_batches(system):
    app = system.commands
    app.quotes.ingest_quotes([QuoteInput("DUP", D("1.5")), QuoteInput("DUP", D("2.5"))])
    app.quotes.ingest_quotes([QuoteInput("ONE", D("10")), QuoteInput("DUP", D("3.25"), bid=D(3))])
    app.quotes.ingest_quotes([QuoteInput("ONE", D("11.125"))])
    sequence = app.store.head_sequence()
    rebuild(system.engine, app.store.recorder, app.store.mapper, ["quotes"])
    rows = {row["instrument"]: row for row in system.read.quotes()}
    assert (rows["DUP"]["last"], rows["DUP"]["bid"], rows["DUP"]["as_of"]) == (
        D("3.25"),
        D(3),
        sequence - 1,
    )
    assert (rows["ONE"]["last"], rows["ONE"]["as_of"]) == (D("11.125"), sequence)


def _bad_quotes_event() -> StoredEvent:
    when = {"_type_": "datetime_iso", "_data_": "2026-11-24T14:32:00+00:00"}
    state = {"timestamp": when, "quotes": [["BAD", "not a number", None, None, None, "x"]]}
    return StoredEvent(
        originator_id=uuid4(),
        originator_version=1,
        topic="domain.quotes:Quotes.Ingested",
        state=json.dumps(state).encode(),
    )


def test_a_quote_row_that_cannot_be_built_stops_quotes_at_its_event_and_the_rest_swap(system):
    run_workload(system.commands, rounds=4)
    bad = system.app.recorder.insert_events([_bad_quotes_event()])[0]
    run_workload(system.commands, rounds=4, tag="after")
    with pytest.raises(RuntimeError, match=f"rebuild of quotes stopped: event {bad} "):
        rebuild(system.engine, system.app.recorder, system.app.mapper)
    with system.engine.connect() as connection:
        slots = {name: active_slot(connection, name) for name in ("quotes", "positions", "orders")}
    assert slots == {"quotes": "a", "positions": "b", "orders": "b"}
    assert_read_models_match_aggregates(system)
    system.projections.start()
    deadline = time.monotonic() + 30
    while (quotes := state_of(system, "quotes")).error is None and time.monotonic() < deadline:
        time.sleep(0.05)
    assert quotes.sequence == bad - 1 and f"event {bad} " in quotes.error


def state_of(system, name):
    return next(state for state in system.projections.status() if state.name == name)


def trade(app, n: int, side: str, quantity: int) -> None:
    order = app.orders.place_order(
        OrderInput(client_order_id=f"t{n}", instrument="ZIG", side=side, quantity=D(quantity))
    ).order
    app.orders.record_fill(
        FillInput(order_id=order.id, fill_id=f"t{n}", quantity=D(quantity), price=D(9))
    )


def test_a_runner_whose_batches_interleave_with_another_runners_reads_fresh_rows(system):
    """The row cache is trusted only while this runner is the slot's only writer. The
    first runner caches the position (2nd batch), the other closes and reopens it (3rd),
    and the first's last fill must keep the reopening's opened_at, not the cached one."""
    trades = [("BUY", 5), ("SELL", 5), ("BUY", 3), ("SELL", 3), ("BUY", 2), ("BUY", 1)]
    for n, (side, quantity) in enumerate(trades):
        trade(system.commands, n, side, quantity)
    args = (PositionsProjection, system.engine, system.app.recorder, system.app.mapper)
    first, second = (ProjectionRunner(*args, slot="a", page=2) for _ in range(2))
    assert first.run_once() and first.run_once() and second.run_once() and first.run_once()
    assert first.position == system.app.head_sequence() > second.position
    assert slot_rows(system, "a")["positions"] == fresh_replay_rows(system)["positions"]


def test_the_row_cache_stays_within_its_size(system):
    run_workload(system.commands, rounds=30)
    args = (PositionsProjection, system.engine, system.app.recorder, system.app.mapper)
    runner = ProjectionRunner(*args, slot="b", page=4)
    runner.cache.size = 2
    runner.catch_up()
    assert 0 < len(runner.cache.rows) <= 2
    assert slot_rows(system, "b")["positions"] == fresh_replay_rows(system)["positions"]


def test_the_driver_upsert_stores_exactly_what_sqlalchemy_would(system):
    """Same stored values as SQLAlchemy's own INSERT, on insert and on conflict: decimals
    in canonical form, datetimes in UTC, UUIDs, NULLs (read raw, not through types).
    The driver path converts a column at a time, inline for the usual values."""
    a, b = projection_tables("a").orders, projection_tables("b").orders
    plus_two = datetime(2026, 11, 24, 16, 32, 1, 5, tzinfo=timezone(timedelta(hours=2)))
    rows = [
        {
            "id": uuid4(),
            "client_order_id": f"c{i}",
            "account": "default",
            "instrument": "EXACT",
            "side": "BUY",
            "type": "LIMIT",
            "quantity": D("5.000"),
            "limit_price": None if i % 2 else D("1E-18"),
            "status": "SUBMITTED",
            "filled_quantity": 0,
            "average_fill_price": (D("123456789012345678.123456789012345678"), D("-0.0"), 7)[i % 3],
            "signal_id": None if i % 3 else uuid4(),
            "reject_reason": None,
            "created_at": plus_two,
            "updated_at": datetime(2026, 1, 1, tzinfo=UTC) if i % 2 else datetime.now(UTC),
            "as_of": i,
        }
        for i in range(6)
    ]
    changed = [{**row, "status": "FILLED", "filled_quantity": D("5.0")} for row in rows]
    with system.engine.begin() as connection:
        for batch in (rows, changed):
            connection.execute(upsert_statement(a, connection.dialect.name), batch)
            SqlRowStore(connection, projection_tables("b"), ("orders",)).upsert(b, batch)
    with system.engine.connect() as connection:
        raw = [
            connection.exec_driver_sql(f"SELECT * FROM {t.name} ORDER BY client_order_id").all()
            for t in (a, b)
        ]
        assert len(raw[0]) == 6 and raw[0] == raw[1]
        assert connection.execute(select(b.c.created_at)).scalars().first() == plus_two


def test_rows_changed_in_place_are_the_batchs_own_copies(system):
    """A projection changes rows in place (`get_for_update`) on its batch's own copy: a
    committed row, held by the row cache and handed to listeners, never changes after,
    and batches of 3 events write what one rebuild page writes."""
    run_workload(system.commands, rounds=12)
    handed = []
    for projection in (OrdersProjection, AccountsProjection):
        ProjectionRunner(
            projection,
            system.engine,
            system.app.recorder,
            system.app.mapper,
            slot="b",
            page=3,
            on_commit=lambda change: handed.append((change.row, copy.deepcopy(change.row))),
        ).catch_up()
    assert len(handed) > 50 and all(row == then for row, then in handed)
    small = slot_rows(system, "b")["orders"], account_rows(system, "b")
    assert rebuilt_rows(system, page=100_000)["orders"] == small[0]
    assert account_rows(system, "b") == small[1] and small[1]["rm_accounts_b"]


def account_rows(system, slot):
    with system.engine.connect() as connection:
        return {
            table.name: sorted(map(tuple, connection.execute(select(table))))
            for table in projection_tables(slot).of("accounts")
        }


def test_a_rebuild_writes_through_a_larger_sqlite_page_cache_then_gives_it_back(system):
    with system.engine.connect() as connection:
        if connection.dialect.name != "sqlite":
            with larger_cache(connection, 4096):
                pass  # nothing to size on PostgreSQL
            return
        size = connection.exec_driver_sql("PRAGMA cache_size").scalar()
        with larger_cache(connection, 4096):
            assert connection.exec_driver_sql("PRAGMA cache_size").scalar() == -4096
            connection.commit()
        assert connection.exec_driver_sql("PRAGMA cache_size").scalar() == size != -4096


def test_a_rebuild_stops_at_each_multiple_of_k_while_no_projection_has_failed(system):
    """`at_every` (the checkpoints of `replay --rebuild`, ADR 026) is called at each
    multiple of K with every projection there, in its idle slot; once a projection
    has failed, no more."""
    from infrastructure.projections.tracking import read_tracking

    run_workload(system.commands, rounds=4)
    bad = system.app.recorder.insert_events([_bad_quotes_event()])[0]
    run_workload(system.commands, rounds=4, tag="after")
    every = max(1, bad // 3)
    with system.engine.connect() as connection:
        idle = {name: "b" if active_slot(connection, name) == "a" else "a" for name in
                ("positions", "orders", "quotes", "accounts")}  # fmt: skip
    seen = []

    def at(sequence, slots):
        with system.engine.connect() as connection:
            for name, slot in idle.items():
                assert slots[name] == slot
                assert read_tracking(connection, name, slot).position == sequence
        seen.append(sequence)

    with pytest.raises(RuntimeError, match="rebuild of quotes stopped"):
        rebuild(system.engine, system.app.recorder, system.app.mapper, at_every=(every, at))
    assert seen == list(range(every, bad, every)) and seen
