"""Positions equal an independent oracle for any fill sequence (SPEC sections 3 and 11):
the pure netting function, the Position aggregate through the commands, and the
positions read model built by the projection on a real SQLite store."""

from __future__ import annotations

from decimal import Decimal as D

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from application.projections.positions import PositionsProjection
from domain.positions import Position, net_fill
from domain.values import Side
from infrastructure.projections.runner import ProjectionRunner
from tests.property import oracle
from tests.property.budget import share
from tests.property.fills import (
    assert_position,
    commissions,
    order_steps,
    positions_of,
    prices,
    quantities,
    run_steps,
    wide_amounts,
    wide_commissions,
    wide_steps,
)
from tests.property.oracle import EXACT, Book
from tests.property.stores import memory_app, sqlite_system

SPEC_TABLE = [
    # side, quantity, price, commission -> quantity, average, realized
    ("BUY", "10", "100", "1", "10", "100", "-1"),
    ("BUY", "10", "110", "1", "20", "105", "-2"),
    ("SELL", "5", "120", "1", "15", "105", "72"),
    ("SELL", "20", "100", "2", "-5", "100", "-5"),
    ("BUY", "5", "90", "0", "0", None, "45"),
]


def test_the_oracle_reproduces_the_worked_example():
    book = Book()
    for side, quantity, price, commission, *after in SPEC_TABLE:
        book = oracle.apply(book, side, D(quantity), D(price), D(commission))
        assert (book.quantity, book.average, book.realized) == (
            D(after[0]),
            None if after[1] is None else D(after[1]),
            D(after[2]),
        )


def _net_fill_follows_the_oracle(fills):
    quantity, average, realized = D(0), None, D(0)
    book = Book()
    for side, amount, price, commission in fills:
        result = net_fill(quantity, average, realized, Side(side), amount, price, commission)
        after = oracle.apply(book, side, amount, price, commission)
        assert (result.quantity, result.average_price, result.realized_pnl) == (
            after.quantity,
            after.average,
            after.realized,
        )
        assert result.realized_delta == EXACT.subtract(after.realized, book.realized)
        quantity, average, realized = result.quantity, result.average_price, result.realized_pnl
        book = after


def one_position_fills(amount, price, commission):
    """Fills on one position; a third of them close or mirror it, whatever its size."""
    fill = st.tuples(st.sampled_from(("BUY", "SELL")), amount, price, commission)
    closing = st.tuples(st.sampled_from((1, 2)), price)
    return st.lists(st.one_of(fill, fill, closing), min_size=1, max_size=25)


def resolve(moves):
    """Turn close/mirror markers into fills sized from the oracle's position."""
    book, fills = Book(), []
    for move in moves:
        if len(move) == 2:
            if book.quantity == 0:
                continue
            times, price = move
            side = "SELL" if book.quantity > 0 else "BUY"
            move = (side, EXACT.multiply(book.quantity.copy_abs(), D(times)), price, D(0))
        fills.append(move)
        book = oracle.apply(book, *move)
    return fills


@share(3.0)
@given(one_position_fills(wide_amounts, wide_amounts, wide_commissions))
@example([("BUY", D(10**17), D(1), D(0)), (1, D(10**17))])  # realizes a 34-digit integer
def test_net_fill_equals_the_oracle_for_any_fill_sequence(moves):
    _net_fill_follows_the_oracle(resolve(moves))


@share(3.0)
@given(one_position_fills(quantities, prices, commissions))
def test_net_fill_equals_the_oracle_with_round_quantities(moves):
    _net_fill_follows_the_oracle(resolve(moves))


@share(1.0)
@given(order_steps())
def test_position_aggregates_equal_the_oracle_through_the_commands(steps_):
    _commands_follow_the_oracle(steps_)


@share(0.5)
@given(wide_steps)
def test_position_aggregates_equal_the_oracle_with_18_decimal_sizes(steps_):
    _commands_follow_the_oracle(steps_)


def _commands_follow_the_oracle(steps_):
    with memory_app() as app:
        expected = run_steps(app, steps_)
        for key, position in positions_of(app, expected).items():
            assert_position(position, expected.books[key])


def folded_events(app, position_id) -> tuple[Book, Book]:
    """Two folds of a position's stored events: the after-values they carry, and
    the oracle over the fills they record."""
    carried, recomputed = Book(), Book()
    for event in app.store.events.get(position_id):
        if isinstance(event, Position.FillApplied):
            carried = Book(
                event.quantity_after, event.average_price_after, event.realized_pnl_after
            )
            recomputed = oracle.apply(
                recomputed, event.side, event.quantity, event.price, event.commission
            )
    return carried, recomputed


@pytest.mark.slow
@share(0.3, store=True)
@given(order_steps(), st.integers(1, 4), st.lists(st.integers(0, 11), max_size=3))
def test_positions_read_model_equals_a_fold_of_its_events_and_the_oracle(
    store_dir, steps_, page, catch_up_after
):
    with sqlite_system(store_dir) as system:
        runner = ProjectionRunner(
            PositionsProjection, system.engine, system.app.recorder, system.app.mapper, page=page
        )
        live = set(catch_up_after)
        expected = run_steps(
            system.commands, steps_, each=lambda n: n in live and runner.catch_up()
        )
        runner.catch_up()
        rows = {(r["account"], r["instrument"]): r for r in system.read.positions()}
        assert set(rows) == set(expected.books)
        for key, book in expected.books.items():
            row = rows[key]
            carried, recomputed = folded_events(system.commands, row["id"])
            read = Book(row["quantity"], row["average_price"], row["realized_pnl"])
            assert read == carried == recomputed == book
            assert row["status"] == book.status
            assert row["as_of"] <= system.app.head_sequence()
