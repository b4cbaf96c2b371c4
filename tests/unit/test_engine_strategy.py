from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from application.engine.crossover import MovingAverageCrossover
from application.engine.strategy import (
    SignalProposal,
    StrategyConfig,
    StrategyNotFound,
    load_strategy,
)
from domain.quotes import Quote
from domain.values import Side

START = datetime(2026, 1, 5, 14, 30, tzinfo=UTC)


def quotes(prices, instrument="AAPL"):
    return [
        Quote(instrument, Decimal(p), None, None, None, START + timedelta(seconds=i))
        for i, p in enumerate(prices)
    ]


def run(strategy, prices, instrument="AAPL"):
    return [p for q in quotes(prices, instrument) for p in strategy.on_quote(q)]


def crossover(fast=2, slow=4):
    return MovingAverageCrossover(StrategyConfig(fast_window=fast, slow_window=slow))


def test_no_signal_before_the_slow_window_is_full():
    assert run(crossover(), ["10", "11", "12"]) == []


def test_the_first_comparison_only_sets_the_side():
    assert run(crossover(), ["10", "11", "12", "13", "14"]) == []


def test_fast_average_crossing_above_the_slow_one_is_a_buy():
    signals = run(crossover(), ["14", "13", "12", "11", "10", "12", "15"])
    assert [s.side for s in signals] == [Side.BUY]
    buy = signals[0]
    assert buy.instrument == "AAPL" and buy.strategy == "ma_crossover"
    assert Decimal(0) < buy.strength <= Decimal(1)
    assert buy.at == START + timedelta(seconds=6)  # the quote at 15 crosses
    assert "crossed above" in (buy.reason or "")


def test_crossing_back_below_is_a_sell_and_sides_alternate():
    signals = run(crossover(), ["10", "11", "12", "13", "11", "9", "12", "15", "10", "8"])
    assert [s.side for s in signals] == [Side.SELL, Side.BUY, Side.SELL]


def test_strength_is_capped_at_one_and_decimal():
    signals = run(crossover(), ["100", "100", "100", "90", "300"])
    assert signals and all(isinstance(s.strength, Decimal) for s in signals)
    assert max(s.strength for s in signals) == Decimal(1)


def test_instruments_are_followed_separately():
    strategy = crossover()
    prices = ["14", "13", "12", "11", "10", "12", "15"]
    interleaved = [
        q for pair in zip(quotes(prices, "A"), quotes(prices, "B"), strict=True) for q in pair
    ]
    signals = [p for q in interleaved for p in strategy.on_quote(q)]
    assert sorted(s.instrument for s in signals) == ["A", "B"]


def test_windows_must_be_ordered():
    with pytest.raises(ValueError):
        crossover(fast=5, slow=5)


class Always:
    """A plug-in strategy found by dotted path."""

    name = "always"

    def __init__(self, config: StrategyConfig) -> None:
        self.config = config

    def on_quote(self, quote: Quote) -> list[SignalProposal]:
        return [SignalProposal(self.name, quote.instrument, Side.BUY, Decimal(1), quote.timestamp)]


def test_strategies_load_by_name_dotted_path_or_not_at_all():
    config = StrategyConfig(fast_window=2, slow_window=5)
    builtin = load_strategy("ma_crossover", config)
    assert isinstance(builtin, MovingAverageCrossover) and builtin.slow_window == 5
    plugin = load_strategy(f"{__name__}:Always", config)
    assert isinstance(plugin, Always) and plugin.config is config
    assert load_strategy("none", config) is None


@pytest.mark.parametrize("spec", ["no_such_strategy", "tests.unit:Missing", "no.such.module:X"])
def test_an_unknown_strategy_is_a_clear_error(spec):
    with pytest.raises(StrategyNotFound):
        load_strategy(spec, StrategyConfig())
