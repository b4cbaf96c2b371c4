"""How the paper broker prices an execution, pure and in Decimal.

MARKET orders fill at the next quote: the ask for a buy, the bid for a sell,
else the last price, moved against the trader by the slippage. LIMIT orders
fill when the quote crosses the limit, never at a worse price than the limit.
Commission is a fixed amount per fill plus basis points of the notional.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, Decimal

from application.engine.broker import BrokerOrder
from domain.quotes import Quote
from domain.values import OrderType, Side

PRICE_STEP = Decimal("0.00000001")
BASIS_POINT = Decimal("0.0001")


@dataclass(frozen=True)
class PaperPricing:
    slippage_bps: Decimal = Decimal(0)
    commission_per_fill: Decimal = Decimal(0)
    commission_bps: Decimal = Decimal(0)

    def reference(self, side: Side, quote: Quote) -> Decimal:
        """The side of the book a market order takes: ask to buy, bid to sell, else last."""
        touch = quote.ask if side is Side.BUY else quote.bid
        return touch if touch is not None else quote.last

    def market_price(self, side: Side, quote: Quote) -> Decimal:
        slip = self.slippage_bps * BASIS_POINT
        factor = 1 + slip if side is Side.BUY else 1 - slip
        price = (self.reference(side, quote) * factor).quantize(PRICE_STEP, ROUND_HALF_EVEN)
        return max(price, PRICE_STEP)

    def fill_price(self, order: BrokerOrder, quote: Quote) -> Decimal | None:
        """The execution price of `order` against `quote`, or None when it does not fill."""
        if order.instrument != quote.instrument:
            return None
        price = self.market_price(order.side, quote)
        if order.order_type is OrderType.MARKET:
            return price
        limit = order.limit_price
        assert limit is not None
        reference = self.reference(order.side, quote)
        if order.side is Side.BUY:
            return min(price, limit) if reference <= limit else None
        return max(price, limit) if reference >= limit else None

    def commission(self, quantity: Decimal, price: Decimal) -> Decimal:
        variable = quantity * price * self.commission_bps * BASIS_POINT
        return (self.commission_per_fill + variable).quantize(PRICE_STEP, ROUND_HALF_EVEN)
