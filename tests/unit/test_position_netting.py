"""The netting rules of SPEC section 3, on the pure function."""

from decimal import Decimal as D

import pytest

from domain.positions import net_fill
from domain.values import Side

WORKED_EXAMPLE = [
    # side, quantity, price, commission -> quantity, average, realized
    ("BUY", "10", "100", "1", "10", "100", "-1"),
    ("BUY", "10", "110", "1", "20", "105", "-2"),
    ("SELL", "5", "120", "1", "15", "105", "72"),
    ("SELL", "20", "100", "2", "-5", "100", "-5"),
    ("BUY", "5", "90", "0", "0", None, "45"),
]

SHORT_FIRST_FRACTIONAL = [
    ("SELL", "2.5", "40.10", "0.05", "-2.5", "40.1", "-0.05"),
    ("SELL", "0.5", "40.70", "0.01", "-3.0", "40.2", "-0.06"),
    ("BUY", "1.25", "39.20", "0.02", "-1.75", "40.2", "1.17"),
    ("BUY", "3.75", "41.00", "0.03", "2.00", "41", "-0.26"),
    ("SELL", "2", "41.5", "0", "0", None, "0.74"),
]


def fold(rows):
    quantity, average, realized = D(0), None, D(0)
    for side, qty, price, commission, *expected in rows:
        result = net_fill(quantity, average, realized, Side(side), D(qty), D(price), D(commission))
        quantity, average, realized = result.quantity, result.average_price, result.realized_pnl
        yield (quantity, average, realized), expected


@pytest.mark.parametrize("rows", [WORKED_EXAMPLE, SHORT_FIRST_FRACTIONAL], ids=["worked", "short"])
def test_netting_follows_the_spec_table(rows):
    for (quantity, average, realized), (q, a, r) in fold(rows):
        assert quantity == D(q)
        assert average == (None if a is None else D(a))
        assert realized == D(r)


def test_reducing_fill_keeps_average_price():
    result = net_fill(D(10), D(100), D(0), Side.SELL, D(4), D(130), D(0))
    assert result.average_price == D(100)
    assert result.realized_delta == D(120)


def test_crossing_zero_opens_the_rest_at_the_fill_price():
    result = net_fill(D(3), D(50), D(0), Side.SELL, D(5), D(55), D(1))
    assert result.quantity == D(-2)
    assert result.average_price == D(55)
    assert result.realized_pnl == D(14)


def test_average_of_uneven_fills_is_exact_to_18_places():
    result = net_fill(D(3), D(1), D(0), Side.BUY, D(3), D(2), D(0))
    assert result.average_price == D("1.5")
    third = net_fill(D(2), D(1), D(0), Side.BUY, D(1), D(2), D(0))
    assert third.average_price == D("1.333333333333333333")


def test_reducing_a_position_without_a_cost_basis_realizes_nothing():
    """Reconciliation may set a quantity with no price known (average None)."""
    reduced = net_fill(D("-3"), None, D("5"), Side.BUY, D("1"), D("90"), D("0.5"))
    assert (reduced.quantity, reduced.average_price, reduced.realized_pnl) == (
        D("-2"),
        None,
        D("4.5"),
    )
    crossed = net_fill(D("-1"), None, D("0"), Side.BUY, D("3"), D("90"), D("0"))
    assert (crossed.quantity, crossed.average_price, crossed.realized_pnl) == (
        D("2"),
        D("90"),
        D(0),
    )
