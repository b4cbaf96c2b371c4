"""Command inputs: primitives in, validated values out (SPEC section 3 input rules).

Every check here runs before anything is appended; a breach raises BadInput
naming the field in the API's camelCase.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from uuid import UUID

from domain.errors import BadInput
from domain.values import (
    OrderType,
    Side,
    check_aware,
    check_enum,
    check_label,
    check_non_negative,
    check_optional_positive,
    check_positive,
    check_strength,
    check_symbol,
    check_text,
)

MAX_QUOTES_PER_BATCH = 10_000


@dataclass(frozen=True)
class QuoteInput:
    instrument: str
    last: Decimal
    bid: Decimal | None = None
    ask: Decimal | None = None
    volume: Decimal | None = None
    timestamp: datetime | None = None

    def validated(self, index: int) -> QuoteInput:
        at = f"quotes[{index}]."
        volume = self.volume
        return QuoteInput(
            instrument=check_symbol(self.instrument, at + "instrument"),
            last=check_positive(self.last, at + "last"),
            bid=check_optional_positive(self.bid, at + "bid"),
            ask=check_optional_positive(self.ask, at + "ask"),
            volume=None if volume is None else check_non_negative(volume, at + "volume"),
            timestamp=check_aware(self.timestamp, at + "timestamp"),
        )


@dataclass(frozen=True)
class SignalInput:
    strategy: str
    instrument: str
    side: Side | str
    strength: Decimal
    quantity: Decimal | None = None
    reason: str | None = None
    expires_at: datetime | None = None

    def validated(self) -> SignalInput:
        return SignalInput(
            strategy=check_label(self.strategy, "strategy"),
            instrument=check_symbol(self.instrument, "instrument"),
            side=check_enum(Side, self.side, "side"),
            strength=check_strength(self.strength),
            quantity=check_optional_positive(self.quantity, "quantity"),
            reason=check_text(self.reason, "reason"),
            expires_at=check_aware(self.expires_at, "expiresAt"),
        )


@dataclass(frozen=True)
class OrderInput:
    client_order_id: str
    instrument: str
    side: Side | str
    quantity: Decimal
    account: str = "default"
    type: OrderType | str = OrderType.MARKET
    limit_price: Decimal | None = None
    signal_id: UUID | None = None

    def validated(self) -> OrderInput:
        order_type = check_enum(OrderType, self.type, "type")
        limit_price = check_optional_positive(self.limit_price, "limitPrice")
        if order_type is OrderType.LIMIT and limit_price is None:
            raise BadInput("a LIMIT order needs a limitPrice", field="limitPrice")
        if order_type is OrderType.MARKET and limit_price is not None:
            raise BadInput("a MARKET order takes no limitPrice", field="limitPrice")
        return OrderInput(
            client_order_id=check_label(self.client_order_id, "clientOrderId"),
            account=check_symbol(self.account, "account"),
            instrument=check_symbol(self.instrument, "instrument"),
            side=check_enum(Side, self.side, "side"),
            quantity=check_positive(self.quantity, "quantity"),
            type=order_type,
            limit_price=limit_price,
            signal_id=self.signal_id,
        )


@dataclass(frozen=True)
class FillInput:
    order_id: UUID
    fill_id: str
    quantity: Decimal
    price: Decimal
    commission: Decimal | None = None
    timestamp: datetime | None = None

    def validated(self) -> FillInput:
        commission = self.commission
        return FillInput(
            order_id=self.order_id,
            fill_id=check_label(self.fill_id, "fillId"),
            quantity=check_positive(self.quantity, "quantity"),
            price=check_positive(self.price, "price"),
            commission=Decimal(0)
            if commission is None
            else check_non_negative(commission, "commission"),
            timestamp=check_aware(self.timestamp, "timestamp"),
        )


@dataclass(frozen=True)
class MonitorInput:
    instrument: str
    account: str = "default"
    stop_loss: Decimal | None = None
    take_profit: Decimal | None = None
    trailing_distance: Decimal | None = None

    def validated(self) -> MonitorInput:
        checked = MonitorInput(
            account=check_symbol(self.account, "account"),
            instrument=check_symbol(self.instrument, "instrument"),
            stop_loss=check_optional_positive(self.stop_loss, "stopLoss"),
            take_profit=check_optional_positive(self.take_profit, "takeProfit"),
            trailing_distance=check_optional_positive(self.trailing_distance, "trailingDistance"),
        )
        if (
            checked.stop_loss is None
            and checked.take_profit is None
            and (checked.trailing_distance is None)
        ):
            raise BadInput(
                "a monitor needs a stopLoss, a takeProfit or a trailingDistance",
                field="stopLoss",
            )
        return checked
