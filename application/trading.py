"""The tradestate application: every command the interfaces may call."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any, ClassVar

from application.ports import BrokerPositions, Clock, MarketPrices, PositionDirectory, utc_now
from application.quotes import QuoteCommands
from application.reconciliation_requests import RemoteReconciliationCommands
from domain.instruments import SpecTable
from domain.monitors import Monitor
from domain.orders import Order
from domain.positions import Position
from domain.signals import Signal


class TradingApplication(QuoteCommands, RemoteReconciliationCommands):
    """Commands are methods; each validates, loads, acts and saves atomically."""

    name = "tradestate"

    cached_on_save = (Order, Position, Signal, Monitor)

    snapshotting_intervals: ClassVar[dict[type[Any], int]] = {
        Position: 200,
        Order: 100,
        Signal: 50,
        Monitor: 200,
    }

    def __init__(
        self,
        env: Mapping[str, str] | None = None,
        *,
        clock: Clock = utc_now,
        broker: BrokerPositions | None = None,
        position_directory: PositionDirectory | None = None,
        market_prices: MarketPrices | None = None,
        default_account: str = "default",
        default_signal_quantity: Decimal = Decimal(1),
        instrument_specs: SpecTable | None = None,
    ) -> None:
        super().__init__(env)
        self.clock = clock
        self.broker = broker
        self.position_directory = position_directory
        self.market_prices = market_prices
        self.default_account = default_account
        self.default_signal_quantity = default_signal_quantity
        if instrument_specs is not None:
            self.instrument_specs = instrument_specs
