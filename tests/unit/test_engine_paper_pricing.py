from datetime import UTC, datetime
from decimal import Decimal
from uuid import uuid4

import pytest

from application.engine.broker import BrokerOrder
from domain.quotes import Quote
from domain.values import OrderType, Side
from infrastructure.broker.pricing import PaperPricing

AT = datetime(2026, 1, 5, 14, 30, tzinfo=UTC)


def quote(last="100", bid="99.9", ask="100.1", instrument="AAPL"):
    def d(x):
        return None if x is None else Decimal(x)

    return Quote(instrument, Decimal(last), d(bid), d(ask), None, AT)


def order(side=Side.BUY, order_type=OrderType.MARKET, limit=None, instrument="AAPL"):
    return BrokerOrder(
        uuid4(),
        "c-1",
        "default",
        instrument,
        side,
        order_type,
        Decimal(10),
        None if limit is None else Decimal(limit),
    )


NO_COSTS = PaperPricing()
SLIPPAGE = PaperPricing(slippage_bps=Decimal(10))  # 0.1 %


def test_a_market_buy_fills_at_the_ask_and_a_sell_at_the_bid():
    assert NO_COSTS.fill_price(order(Side.BUY), quote()) == Decimal("100.1")
    assert NO_COSTS.fill_price(order(Side.SELL), quote()) == Decimal("99.9")


def test_without_bid_or_ask_a_market_order_fills_at_last():
    assert NO_COSTS.fill_price(order(Side.BUY), quote(bid=None, ask=None)) == Decimal(100)
    assert NO_COSTS.fill_price(order(Side.SELL), quote(bid=None)) == Decimal(100)


def test_slippage_moves_the_price_against_the_trader_exactly():
    assert SLIPPAGE.fill_price(order(Side.BUY), quote()) == Decimal("100.2001")
    assert SLIPPAGE.fill_price(order(Side.SELL), quote()) == Decimal("99.8001")
    assert isinstance(SLIPPAGE.fill_price(order(), quote()), Decimal)


def test_a_quote_of_another_instrument_fills_nothing():
    assert NO_COSTS.fill_price(order(instrument="MSFT"), quote()) is None


@pytest.mark.parametrize(
    ("side", "limit", "expected"),
    [
        (Side.BUY, "100.05", None),  # ask 100.1 above the limit
        (Side.BUY, "100.1", "100.1"),  # touches
        (Side.BUY, "101", "100.1"),  # crossed: the ask, better than the limit
        (Side.SELL, "99.95", None),  # bid 99.9 below the limit
        (Side.SELL, "99", "99.9"),
    ],
)
def test_a_limit_order_fills_only_when_the_price_crosses(side, limit, expected):
    price = NO_COSTS.fill_price(order(side, OrderType.LIMIT, limit), quote())
    assert price == (None if expected is None else Decimal(expected))


def test_a_limit_order_never_fills_worse_than_its_limit_despite_slippage():
    assert SLIPPAGE.fill_price(order(Side.BUY, OrderType.LIMIT, "100.15"), quote()) == Decimal(
        "100.15"
    )
    assert SLIPPAGE.fill_price(order(Side.SELL, OrderType.LIMIT, "99.85"), quote()) == Decimal(
        "99.85"
    )


def test_commission_is_per_fill_plus_basis_points_of_notional():
    pricing = PaperPricing(commission_per_fill=Decimal("0.5"), commission_bps=Decimal(2))
    assert pricing.commission(Decimal(10), Decimal(100)) == Decimal("0.7")
    assert NO_COSTS.commission(Decimal(10), Decimal(100)) == Decimal(0)
