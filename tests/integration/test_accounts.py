"""The accounts projection on real SQLite and PostgreSQL: totals per (account,
currency) from fills and quotes, booked by the specs in force; 1-minute P&L bars
that a blue/green rebuild writes again identically; off-increment input refused."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal as D
from types import SimpleNamespace

import pytest
from sqlalchemy import select

from application.inputs import FillInput, OrderInput, QuoteInput
from application.projections.accounts import AccountsProjection
from domain.errors import BadInput
from infrastructure.instruments import InstrumentSetting
from infrastructure.projections.rebuild import rebuild
from infrastructure.projections.runner import ProjectionRunner
from infrastructure.projections.tracking import active_slot
from infrastructure.readmodels.account_queries import AccountReads
from infrastructure.readmodels.tables import projection_tables
from infrastructure.replay import state_at
from infrastructure.settings import load_settings
from interfaces.composition import build_system

SPECS = {
    "ES*": InstrumentSetting(currency="USD", price_increment=D("0.25"), multiplier=D(50)),
    "7203.T": InstrumentSetting(currency="JPY", price_increment=D(1), size_increment=D(100)),
    "AAPL": InstrumentSetting(currency="USD", price_increment=D("0.01")),
}
TABLES = ("accounts", "pnl_bars", "account_positions", "account_holders", "account_specs")


@pytest.fixture
def system(database_url):
    settings = load_settings(database_url=database_url, instruments=SPECS)
    built = build_system(settings, record_specs=True)
    yield built
    built.close()


def trade(app, tag, instrument, side, quantity, price, commission="0", account="default"):
    order = app.orders.place_order(
        OrderInput(
            client_order_id=tag,
            account=account,
            instrument=instrument,
            side=side,
            quantity=D(quantity),
        )
    ).order
    return app.orders.record_fill(
        FillInput(
            order_id=order.id,
            fill_id=tag,
            quantity=D(quantity),
            price=D(price),
            commission=D(commission),
        )
    )


def settle(system):
    group = system.projections
    group.start()
    try:
        assert group.wait_for_blocking(["accounts"], system.app.head_sequence(), 30)
    finally:
        group.stop()


def rows_of(system, slot=None):
    with system.engine.connect() as connection:
        slot = slot or active_slot(connection, "accounts")
        tables = projection_tables(slot)
        found = {}
        for name in TABLES:
            table = getattr(tables, name)
            keys = list(table.primary_key.columns)
            found[name] = [
                dict(r._mapping) for r in connection.execute(select(table).order_by(*keys))
            ]
        return found


def totals(system, account="default"):
    since = datetime.now(UTC) - timedelta(days=1)
    return {row["currency"]: row for row in AccountReads(system.engine).accounts(since, account)}


def test_totals_per_currency_follow_fills_and_quotes_by_the_specs_in_force(system):
    app = system.commands
    trade(app, "es1", "ESZ6", "BUY", "2", "5000.25", "4.5")  # 2 contracts x 50
    trade(app, "es2", "ESZ6", "SELL", "1", "5010.50", "2.25")  # realizes 10.25 x 50
    trade(app, "jp1", "7203.T", "BUY", "300", "2501", "333.5")  # JPY: 334 commission booked
    trade(app, "x1", "XYZ", "BUY", "3", "1.000000001")  # no spec: 8 dp
    trade(app, "x2", "XYZ", "SELL", "3", "1.000000016")
    app.quotes.ingest_quotes([QuoteInput("ESZ6", D("5020")), QuoteInput("7203.T", D("2490"))])
    settle(system)
    found = totals(system)
    usd, jpy, none = found["USD"], found["JPY"], found[None]
    assert usd["realized_pnl"] == D("505.75")  # 10.25 x 50 - 4.5 - 2.25
    assert usd["commission_paid"] == D("6.75")
    assert usd["unrealized_pnl"] == D("987.5")  # (5020 - 5000.25) x 1 x 50
    assert (usd["gross_exposure"], usd["net_exposure"]) == (D(251000), D(251000))
    assert usd["open_positions"] == 1
    assert jpy["commission_paid"] == D(334) and jpy["realized_pnl"] == D(-334)
    assert jpy["unrealized_pnl"] == D(-3300) and jpy["places"] == 0
    assert none["realized_pnl"] == D("0.00000004")  # 0.000000045 half-even to 8 dp
    assert none["open_positions"] == 0 and none["gross_exposure"] == 0
    assert rows_of(system)["account_specs"][0]["specs"].count("pattern") == 3


def test_a_rebuild_writes_identical_rows_and_bars(system):
    app = system.commands
    for n in range(12):
        side = "BUY" if n % 3 else "SELL"
        trade(app, f"t{n}", "AAPL", side, "3", f"{100 + n}.37", "0.5", account=f"acct{n % 2}")
        app.quotes.ingest_quotes([QuoteInput("AAPL", D(f"{101 + n}.11"))])
    settle(system)
    before = rows_of(system)
    assert len(before["accounts"]) == 2 and before["pnl_bars"]
    for bar in before["pnl_bars"]:
        assert bar["low"] <= min(bar["open"], bar["close"]) <= bar["high"]
    rebuild(system.engine, app.store.recorder, app.store.mapper, ["accounts"])
    with system.engine.connect() as connection:
        assert active_slot(connection, "accounts") != "a"
    assert rows_of(system) == before


def test_off_increment_orders_fills_and_quotes_are_refused_and_append_nothing(system):
    app = system.commands
    order = app.orders.place_order(
        OrderInput(client_order_id="o", instrument="ESZ6", side="BUY", quantity=D(1))
    ).order
    head = app.store.head_sequence()
    with pytest.raises(BadInput) as refused:
        app.orders.record_fill(
            FillInput(order_id=order.id, fill_id="f", quantity=D(1), price=D("5000.1"))
        )
    assert refused.value.field == "price" and "0.25" in refused.value.message
    with pytest.raises(BadInput) as refused:
        app.orders.place_order(
            OrderInput(client_order_id="j", instrument="7203.T", side="BUY", quantity=D(150))
        )
    assert refused.value.field == "quantity"
    with pytest.raises(BadInput) as refused:
        app.quotes.ingest_quotes([QuoteInput("AAPL", D("1.5")), QuoteInput("AAPL", D("1.505"))])
    assert refused.value.field == "quotes[1].last"
    assert app.store.head_sequence() == head


def test_replay_until_a_sequence_shows_the_accounts_then(system):
    app = system.commands
    trade(app, "a1", "AAPL", "BUY", "2", "10.50", "1")
    middle = app.store.head_sequence()
    trade(app, "a2", "AAPL", "SELL", "2", "11.25", "1")
    state = state_at(app.store.recorder, app.store.mapper, middle)
    assert [(a["account"], a["realized_pnl"]) for a in state["accounts"]] == [("default", D(-1))]


def test_kept_answers_last_until_the_accounts_read_model_moves(system):
    from interfaces.api.accounts_view import AccountsView

    app, view, computed = system.commands, AccountsView(system.read), []

    def realized():
        computed.append(1)
        return [SimpleNamespace(pnl=row["realized_pnl"]) for row in totals(system).values()]

    runner = ProjectionRunner(
        AccountsProjection, system.engine, app.store.recorder, app.store.mapper
    )
    trade(app, "v1", "AAPL", "BUY", "2", "10.50", "1")
    runner.catch_up()
    first = view.answer("k", realized)
    assert [a.pnl for a in first] == [D(-1)] and view.answer("k", realized) is first
    assert len(computed) == 1
    trade(app, "v2", "AAPL", "SELL", "2", "11.25", "1")
    runner.catch_up()
    assert [a.pnl for a in view.answer("k", realized)] == [D("-0.5")] and len(computed) == 2


def test_kept_answers_drop_only_for_accounts_whose_rows_changed(system):
    """A quote of an instrument nobody holds, or another account's fill, moves the read
    model but leaves an account's answers standing; its own fill, or a quote of what it
    holds, drops them; a rebuild drops every answer."""
    from interfaces.api.accounts_view import AccountsView

    app, view, computed = system.commands, AccountsView(system.read), []
    runner = ProjectionRunner(
        AccountsProjection, system.engine, app.store.recorder, app.store.mapper
    )

    def realized(account):
        def compute():
            computed.append(account)
            return [
                SimpleNamespace(pnl=row["realized_pnl"], unrealized=row["unrealized_pnl"])
                for row in totals(system, account).values()
            ]

        return view.answer(("one", account), compute, account)

    def everyone():
        computed.append("every")
        since = datetime.now(UTC) - timedelta(days=1)
        rows = AccountReads(system.engine).accounts(since)
        return [SimpleNamespace(pnl=row["realized_pnl"]) for row in rows]

    trade(app, "p1", "AAPL", "BUY", "2", "10.50", "1", account="a1")
    trade(app, "p2", "MSFT", "BUY", "1", "20", "1", account="a2")
    runner.catch_up()
    first, every = realized("a1"), view.answer("all", everyone)
    assert [a.pnl for a in first] == [D(-1)] and [a.pnl for a in every] == [D(-1), D(-1)]
    assert computed == ["a1", "every"]

    app.quotes.ingest_quotes([QuoteInput("UNHELD", D("5"))])
    trade(app, "p3", "MSFT", "SELL", "1", "21", "0", account="a2")
    runner.catch_up()
    assert realized("a1") is first and len(computed) == 2  # kept: a1's rows did not move
    assert [a.pnl for a in view.answer("all", everyone)] == [D(-1), D(0)]  # a2 moved
    assert computed == ["a1", "every", "every"]

    app.quotes.ingest_quotes([QuoteInput("AAPL", D("11"))])  # a1 holds AAPL: unrealized moves
    runner.catch_up()
    assert [a.unrealized for a in realized("a1")] == [D(1)] and computed[-1] == "a1"
    kept = realized("a1")
    trade(app, "p4", "AAPL", "SELL", "2", "11.25", "1", account="a1")
    runner.catch_up()
    assert [a.pnl for a in realized("a1")] == [D("-0.5")] and computed[-1] == "a1"
    assert realized("a1") is not kept

    kept = realized("a1")
    rebuild(system.engine, app.store.recorder, app.store.mapper, ["accounts"])
    assert realized("a1") is not kept and [a.pnl for a in realized("a1")] == [D("-0.5")]


def test_runners_resuming_between_events_book_what_one_runner_books(system):
    """Each event applied by a fresh runner (empty row cache): every working row the
    projection needs next batch must be in its tables, not only in memory."""
    app = system.commands
    args = (AccountsProjection, system.engine, app.store.recorder, app.store.mapper)
    steps = [
        lambda: app.quotes.ingest_quotes([QuoteInput("AAPL", D("10.40"))]),
        lambda: trade(app, "r1", "AAPL", "BUY", "3", "10.50", "0.5"),
        lambda: app.quotes.ingest_quotes([QuoteInput("AAPL", D("10.70"))]),
        lambda: trade(app, "r2", "AAPL", "SELL", "1", "10.90", "0.5"),
        lambda: trade(app, "r3", "ESZ6", "BUY", "1", "5000", "1"),
    ]
    for step in steps:
        step()
        ProjectionRunner(*args, slot="b", page=1).catch_up()
    ProjectionRunner(*args, slot="a").catch_up()
    assert rows_of(system, "b") == rows_of(system, "a")
    usd = rows_of(system, "a")["accounts"][0]
    assert (usd["unrealized_pnl"], usd["realized_pnl"]) == (D("0.4"), D("-1.6"))  # ES: -1
