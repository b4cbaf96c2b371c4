"""How live runners keep tracking, on real SQLite and PostgreSQL: a commit costs a
write only to the projections it concerns, yet read-your-writes, lag and restarts
see every projection as far as it has read, and a swap elsewhere is noticed."""

import asyncio
import re
from collections import Counter
from decimal import Decimal as D

import pytest
from sqlalchemy import Engine, event

from application.inputs import FillInput, OrderInput, QuoteInput
from application.projections.positions import PositionsProjection
from infrastructure.projections.group import ProjectionGroup
from infrastructure.projections.rebuild import rebuild
from infrastructure.projections.runner import ProjectionRunner
from infrastructure.projections.tracking import active_slot, read_tracking
from infrastructure.readmodels.tables import projection_tables
from infrastructure.settings import load_settings
from interfaces.composition import build_system
from tests.integration.test_projections import ALL

# Projections that handle quotes: every commit concerns them.
QUOTED = ("quotes", "accounts")
NOT_QUOTES = [name for name in ALL if name not in QUOTED]
TRACKED = re.compile(r"^([a-z_]+):[ab]$")


@pytest.fixture
def system(database_url):
    built = build_system(load_settings(database_url=database_url))
    yield built
    built.close()


def group_of(system, **options) -> ProjectionGroup:
    return ProjectionGroup(system.engine, system.app.recorder, system.app.mapper, **options)


def tracking_writes(engine: Engine) -> Counter[str]:
    """Statements writing `rm_tracking` from now on, by the projection they name."""
    writes: Counter[str] = Counter()

    def record(_connection, _cursor, statement, parameters, _context, _many) -> None:
        if "rm_tracking" not in statement or statement.split()[0].upper() == "SELECT":
            return
        values = parameters.values() if isinstance(parameters, dict) else parameters
        names = [m.group(1) for v in values if isinstance(v, str) and (m := TRACKED.match(v))]
        writes[names[0] if names else "?"] += 1

    event.listen(engine, "before_cursor_execute", record)
    return writes


def test_a_commit_writes_the_tracking_of_the_projections_it_concerns_only(system):
    """Twenty quotes, each waited for by every projection: only quotes and
    accounts write tracking; the others write theirs once, when the group stops, where they got to,
    and a group started afterwards resumes there."""
    group = group_of(system, persist_every=3600)
    writes = tracking_writes(system.engine)
    group.start()
    try:
        for i in range(20):
            sequence = system.commands.quotes.ingest_quotes([QuoteInput("IDLE", D(i + 1))]).sequence
            assert group.wait_for_blocking(ALL, sequence, 10)
        assert {name: writes[name] for name in NOT_QUOTES} == dict.fromkeys(NOT_QUOTES, 0)
        assert all(1 <= writes[name] <= 20 for name in QUOTED)
        assert [(s.name, s.sequence, s.lag, s.stale) for s in group.status()] == [
            (name, sequence, 0, False) for name in ALL
        ]
    finally:
        group.stop()
    assert {name: writes[name] for name in NOT_QUOTES} == dict.fromkeys(NOT_QUOTES, 1)
    with system.engine.connect() as connection:
        stored = {name: read_tracking(connection, name, "a").position for name in ALL}
    assert stored == dict.fromkeys(ALL, sequence)
    again = group_of(system)
    again.start()
    try:
        assert again.wait_for_blocking(ALL, sequence, 10)
        assert {name: thread.runner.persisted for name, thread in again.threads.items()} == stored
    finally:
        again.stop()


def test_read_your_writes_returns_for_a_sequence_the_projection_ignores(system):
    """`minSequence` of a quote on orders and positions (which ignore quotes) returns at
    once, here and in a process reading the lazily written tracking table; a sequence
    not yet written, or an event a projection handles and has not applied, holds it."""
    app = system.commands
    group = group_of(system, persist_every=3600)
    elsewhere = group_of(system)  # never started: reads tracking, as another process does
    group.start()
    try:
        placed = app.orders.place_order(
            OrderInput(client_order_id="ryw", instrument="RYW", side="BUY", quantity=D(2))
        )
        assert group.wait_for_blocking(["orders"], placed.sequence, 10)
        quote = app.quotes.ingest_quotes([QuoteInput("RYW", D(7))]).sequence
        assert asyncio.run(group.wait_for(["orders", "positions", "quotes"], quote, 5))
        assert not asyncio.run(group.wait_for(["orders"], quote + 1, 0.3))
        assert elsewhere.caught_up(["orders", "positions", "signals", "quotes"], quote)
        assert not elsewhere.caught_up(["orders"], quote + 1)
        assert {s.name: s.lag for s in elsewhere.status()} == dict.fromkeys(ALL, 0)
    finally:
        group.stop()
    fill = app.orders.record_fill(
        FillInput(order_id=placed.order.id, fill_id="ryw-1", quantity=D(2), price=D(7))
    )
    later = app.quotes.ingest_quotes([QuoteInput("RYW", D(8))]).sequence
    assert elsewhere.caught_up(["signals", "monitors"], later)  # they ignore fills and quotes
    assert not elsewhere.caught_up(["orders"], fill.sequence)
    assert not elsewhere.caught_up(["positions"], later)
    lags = {s.name: s.lag for s in elsewhere.status()}
    assert lags["signals"] == 0 and lags["orders"] > 0 and lags["quotes"] == 1


def test_a_live_runner_carries_on_in_the_slot_a_rebuild_swapped_in(system):
    """The runner trusts its slot between batches; a rebuild's swap must still send its
    next batch to the new slot (its compare-and-set checks the slot is active)."""
    app = system.commands
    runner = ProjectionRunner(
        PositionsProjection, system.engine, app.store.recorder, app.store.mapper
    )
    order = app.orders.place_order(
        OrderInput(client_order_id="swap", instrument="SWAP", side="BUY", quantity=D(3))
    ).order
    app.orders.record_fill(
        FillInput(order_id=order.id, fill_id="swap-1", quantity=D(1), price=D(5))
    )
    runner.catch_up()
    assert runner.slot == "a"
    rebuild(system.engine, app.store.recorder, app.store.mapper, ["positions"])
    app.orders.record_fill(
        FillInput(order_id=order.id, fill_id="swap-2", quantity=D(2), price=D(5))
    )
    assert runner.run_once()
    assert runner.slot == "b" and runner.position == app.store.head_sequence()
    with system.engine.connect() as connection:
        assert active_slot(connection, "positions") == "b"
        quantity = {
            slot: connection.execute(projection_tables(slot).positions.select()).one().quantity
            for slot in ("a", "b")
        }
    assert quantity == {"a": D(1), "b": D(3)}
