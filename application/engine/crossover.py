"""The built-in strategy: a fast moving average crossing a slow one."""

from __future__ import annotations

from collections import deque
from decimal import Decimal

from application.engine.strategy import SignalProposal, StrategyConfig
from domain.quotes import Quote
from domain.values import Side

STRENGTH_STEP = Decimal("0.0001")
AVERAGE_STEP = Decimal("0.00000001")


class MovingAverageCrossover:
    """BUY when the fast average crosses above the slow one, SELL when it crosses below.

    Strength is the gap between the averages relative to the slow one, times
    `strength_scale` (option, default 200: a 0.5 % gap is full strength), capped at 1.
    Only crossings are signalled: the first comparison per instrument sets the side.
    """

    name = "ma_crossover"

    def __init__(self, config: StrategyConfig | None = None) -> None:
        config = config or StrategyConfig()
        if not 0 < config.fast_window < config.slow_window:
            raise ValueError(
                f"need 0 < fast window < slow window (got {config.fast_window}, "
                f"{config.slow_window})"
            )
        self.fast_window = config.fast_window
        self.slow_window = config.slow_window
        self.strength_scale = Decimal(config.options.get("strength_scale", "200"))
        self.instruments = frozenset(config.instruments)
        self._prices: dict[str, deque[Decimal]] = {}
        self._side: dict[str, int] = {}

    def on_quote(self, quote: Quote) -> list[SignalProposal]:
        if self.instruments and quote.instrument not in self.instruments:
            return []
        prices = self._prices.setdefault(quote.instrument, deque(maxlen=self.slow_window))
        prices.append(quote.last)
        if len(prices) < self.slow_window:
            return []
        window = list(prices)
        fast = average(window[-self.fast_window :])
        slow = average(window)
        direction = (fast > slow) - (fast < slow)
        previous = self._side.get(quote.instrument)
        if direction == 0:
            return []
        self._side[quote.instrument] = direction
        if previous is None or previous == direction:
            return []
        side = Side.BUY if direction > 0 else Side.SELL
        gap = abs(fast - slow) / slow
        strength = min(Decimal(1), gap * self.strength_scale).quantize(STRENGTH_STEP)
        word = "above" if side is Side.BUY else "below"
        reason = (
            f"MA{self.fast_window} {fast.quantize(AVERAGE_STEP)} crossed {word} "
            f"MA{self.slow_window} {slow.quantize(AVERAGE_STEP)}"
        )
        return [
            SignalProposal(
                strategy=self.name,
                instrument=quote.instrument,
                side=side,
                strength=strength,
                at=quote.timestamp,
                reason=reason,
            )
        ]


def average(prices: list[Decimal]) -> Decimal:
    return sum(prices, Decimal(0)) / len(prices)
