"""The `positions` view (interfaces/api/positions_view.py) follows the read models
from the rows changed since its last answer. After any mix of fills, quotes, new
positions and a blue/green rebuild it must answer exactly what a full read and
conversion answers, and hand out the same objects for rows that did not change."""

from __future__ import annotations

import random
from dataclasses import fields
from decimal import Decimal as D
from typing import Any

import pytest

from application.inputs import FillInput, OrderInput, QuoteInput
from infrastructure.projections.rebuild import rebuild
from infrastructure.settings import load_settings
from interfaces.api import convert
from interfaces.api.positions_view import PositionsView
from interfaces.composition import build_system

PROJECTIONS = ["positions", "quotes"]


@pytest.fixture
def system(database_url):
    built = build_system(load_settings(database_url=database_url))
    built.projections.start()
    yield built
    built.close()


def caught_up(system) -> None:
    assert system.projections.wait_for_blocking(PROJECTIONS, system.app.head_sequence(), 30)


def full_read(system, status: str | None = None, account: str | None = None) -> list[Any]:
    """What `positions` answered before the view: every row read and converted."""
    rows = system.read.positions(status=status, account=account)
    prices = {row["instrument"]: row["last"] for row in system.read.quotes()}
    positions = [convert.position(row, prices.get(row["instrument"])) for row in rows]
    return sorted(positions, key=lambda p: (p.account, p.instrument))


def plain(positions: list[Any]) -> list[dict[str, Any]]:
    return [{f.name: getattr(p, f.name) for f in fields(p)} for p in positions]


def assert_same(view: PositionsView, system, status=None, account=None) -> list[Any]:
    answer = view.positions(status, account)
    assert plain(answer) == plain(full_read(system, status, account))
    assert [(p.account, p.instrument) for p in answer] == sorted(
        (p.account, p.instrument) for p in answer
    )
    return answer


class Trader:
    def __init__(self, app) -> None:
        self.app = app
        self.count = 0

    def trade(self, account: str, instrument: str, side: str, quantity: int, price: str) -> None:
        self.count += 1
        order = self.app.orders.place_order(
            OrderInput(client_order_id=f"v{self.count}", instrument=instrument, side=side,
                       quantity=D(quantity), account=account)
        ).order  # fmt: skip
        self.app.orders.record_fill(
            FillInput(order_id=order.id, fill_id=f"vf{self.count}", quantity=D(quantity),
                      price=D(price))
        )  # fmt: skip

    def quote(self, instrument: str, last: str) -> None:
        self.app.quotes.ingest_quotes([QuoteInput(instrument=instrument, last=D(last))])


def test_each_change_shows_and_unchanged_rows_keep_their_objects(system):
    trader, view = Trader(system.commands), PositionsView(system.read)
    for account in ("x", "y"):
        for instrument in ("B", "D", "F"):
            trader.trade(account, instrument, "BUY", 5, "10")
    caught_up(system)
    before = {(p.account, p.instrument): p for p in assert_same(view, system)}
    assert view.positions() is view.positions()  # nothing moved: the same answer

    trader.quote("D", "12.5")
    caught_up(system)
    after = {(p.account, p.instrument): p for p in assert_same(view, system)}
    assert after[("x", "D")].unrealized_pnl == D("12.5")
    moved = {key for key in before if before[key] is not after[key]}
    assert moved == {("x", "D"), ("y", "D")}  # only the quoted instrument's rows

    trader.trade("x", "C", "BUY", 1, "3")  # a new position, sorted between B and D
    trader.trade("y", "B", "SELL", 5, "11")  # closes one
    caught_up(system)
    assert_same(view, system)
    assert_same(view, system, status="CLOSED")
    assert_same(view, system, status="OPEN", account="y")
    assert [p.instrument for p in view.positions(account="x")] == ["B", "C", "D", "F"]


def test_a_rebuild_swaps_slots_and_the_view_starts_over(system):
    trader, view = Trader(system.commands), PositionsView(system.read)
    trader.trade("x", "A", "BUY", 2, "7")
    trader.quote("A", "8")
    caught_up(system)
    first = assert_same(view, system)
    rebuild(system.engine, system.app.recorder, system.app.mapper, PROJECTIONS)
    trader.quote("A", "9")
    caught_up(system)
    second = assert_same(view, system)
    assert second[0] is not first[0] and second[0].market_price == D("9")


def test_random_fills_and_quotes_always_equal_a_full_read(system):
    trader, view = Trader(system.commands), PositionsView(system.read)
    rng = random.Random(7)
    for step in range(40):
        instrument = rng.choice("ABCDEFGH")
        if rng.random() < 0.5:
            side = rng.choice(["BUY", "SELL"])
            trader.trade(rng.choice("xyz"), instrument, side, rng.randint(1, 4), "10")
        else:
            trader.quote(instrument, f"{rng.randint(5, 15)}.{step}")
        if step % 3 == 0:
            caught_up(system)
            assert_same(view, system)
            assert_same(view, system, status=rng.choice(["OPEN", "CLOSED"]))
    caught_up(system)
    assert_same(view, system)
