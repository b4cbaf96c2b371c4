"""Money as a broker books it (SPEC section 13, ADR 015): realized P&L and commission
rounded half-even to the currency's places at the fill, stored so, summed exactly;
average price unrounded; specs resolved from settings and recorded when they change."""

from decimal import Decimal as D

import pytest

from application.inputs import FillInput, OrderInput
from domain.instruments import InstrumentSpecs
from domain.positions import net_fill
from domain.values import Side
from infrastructure.instruments import (
    InstrumentSetting,
    UnknownCurrency,
    currency_places,
    spec_table,
)

AVERAGE = "10.015714285714285714"
# ADR 015's worked example, instrument in USD (2 places); commission in brackets.
USD_TABLE = [
    # side, quantity, price, commission -> quantity, average, realized after, booked commission
    ("BUY", "3", "10.01", "0.333", "3", "10.01", "-0.33", "0.33"),
    ("BUY", "4", "10.02", "0.125", "7", AVERAGE, "-0.45", "0.12"),
    ("SELL", "5", "10.05", "0.005", "2", AVERAGE, "-0.28", "0"),
    ("SELL", "2", "9.99", "0.015", "0", None, "-0.35", "0.02"),
]


def test_the_worked_example_books_usd_to_cents_and_keeps_the_average_exact():
    quantity, average, realized = D(0), None, D(0)
    for side, size, price, commission, *after in USD_TABLE:
        result = net_fill(
            quantity, average, realized, Side(side), D(size), D(price), D(commission), places=2
        )
        quantity, average, realized = result.quantity, result.average_price, result.realized_pnl
        assert (quantity, average, realized) == (
            D(after[0]),
            None if after[1] is None else D(after[1]),
            D(after[2]),
        )


def test_the_commands_store_booked_amounts_in_the_fill_events(app):
    app.instruments.specs = spec_table({"ACME": InstrumentSetting(currency="USD")}, {})
    for n, (side, size, price, commission, *after) in enumerate(USD_TABLE):
        order = app.orders.place_order(OrderInput(f"o{n}", "ACME", side, D(size))).order
        result = app.orders.record_fill(
            FillInput(order.id, f"f{n}", D(size), D(price), commission=D(commission))
        )
        assert result.fill.commission == D(after[3])
        assert result.position.realized_pnl == D(after[2])


def test_without_a_spec_money_is_booked_to_8_places_half_even():
    bought = net_fill(D(0), None, D(0), Side.BUY, D(3), D("1.000000001"), D("0.000000005"))
    assert bought.realized_pnl == D(0)  # 0.000000005 -> 0.00000000 (ties to even)
    sold = net_fill(D(3), D("1.000000001"), D(0), Side.SELL, D(3), D("1.000000016"), D(0))
    assert sold.realized_delta == D("0.00000004")  # 0.000000045 -> ...04
    tail = net_fill(D(7), D(AVERAGE), D(0), Side.SELL, D(5), D("10.05"), D(0))
    assert tail.realized_delta == D("0.17142857")  # not 0.171428571428571430


def test_a_multiplier_scales_what_a_fill_realizes():
    result = net_fill(
        D(2), D("5000.25"), D(0), Side.SELL, D(1), D("5010.5"), D(0), multiplier=D(50)
    )
    assert result.realized_delta == D("512.5")


def test_currency_places_come_from_iso_4217_unless_configured():
    assert currency_places("USD", {}) == 2
    assert currency_places("JPY", {}) == 0
    assert currency_places("BHD", {}) == 3
    assert currency_places("BTC", {"BTC": 8}) == 8
    assert currency_places("USD", {"USD": 4}) == 4
    with pytest.raises(UnknownCurrency, match="DOGE"):
        currency_places("DOGE", {})


def test_an_exact_instrument_wins_over_patterns_and_the_first_pattern_wins():
    table = spec_table(
        {
            "ES*": InstrumentSetting(currency="USD", multiplier=D(50)),
            "E*": InstrumentSetting(currency="EUR"),
            "ESX": InstrumentSetting(currency="CHF"),
        },
        {},
    )
    assert table.spec_for("ESZ6").multiplier == 50
    assert table.spec_for("EURX").currency == "EUR"
    assert table.spec_for("ESX").currency == "CHF"
    assert table.spec_for("OTHER").currency is None and table.spec_for("OTHER").places == 8


def test_specs_are_recorded_once_per_change(app):
    app.instruments.specs = spec_table({"A*": InstrumentSetting(currency="USD")}, {})
    first = app.instruments.record_instrument_specs()
    assert first is not None and app.instruments.record_instrument_specs() is None
    app.instruments.specs = spec_table({"A*": InstrumentSetting(currency="GBP")}, {})
    assert app.instruments.record_instrument_specs() is not None
    stream = app.store.repository.get(InstrumentSpecs.create_id())
    assert stream.version == 3 and stream.specs[0]["currency"] == "GBP"


def test_served_unrealized_pnl_is_rounded_like_booked_money():
    from domain.valuation import unrealized_pnl

    # Exactly (10.05 - 10.015714285714285714) x 7 = 0.240000000000000002.
    assert unrealized_pnl(D(7), D(AVERAGE), D("10.05"), places=2) == D("0.24")
    assert unrealized_pnl(D(7), D(AVERAGE), D("10.05")) == D("0.24")  # 8 places: no tail either
    assert unrealized_pnl(D(-3), D("0.1"), D("0.3333333333"), places=8) == D("-0.7")
    assert unrealized_pnl(D(2), D(100), D("100.5"), D(50), places=2) == D(50)  # x multiplier


def test_unrealized_pnl_is_exact_past_28_digits():
    """Every step in the domain's 80-digit context: 18+18-digit sizes and prices
    keep their digits (the default context's 28 would round the product)."""
    from domain.valuation import unrealized_pnl

    quantity = D("123456789012345678.123456789012345678")
    moved = D("0.000000000000000001")
    assert unrealized_pnl(quantity, D(1), 1 + moved, places=18) == D("0.123456789012345678")
    assert unrealized_pnl(D(0), D(1), D(2)) is None
    assert unrealized_pnl(D(1), None, D(2)) is None and unrealized_pnl(D(1), D(1), None) is None
