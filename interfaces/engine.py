"""The trading engine's parts wired to the infrastructure adapters (paper broker,
market-data feeds). Only the composition root (interfaces/composition.py) calls
this, with the command services it built around the same book and prices."""

from __future__ import annotations

from application.commands import Commands
from application.engine.config import EngineConfig
from application.engine.expiry import ExpirySweeper
from application.engine.feed import QuoteFeed
from application.engine.handler import SignalHandler
from application.engine.market import LastPrices
from application.engine.orders import OpenOrders
from application.engine.protection import Protection, ProtectionPolicy
from application.engine.risk import RiskLimits
from application.engine.runner import Engine
from application.engine.strategy import Strategy, StrategyConfig, load_strategy
from application.inputs import FillInput
from application.results import FillResult
from infrastructure.broker.book import PaperBook
from infrastructure.broker.paper import PaperBroker
from infrastructure.broker.pricing import PaperPricing
from infrastructure.feeds import open_feed


def build_engine(
    commands: Commands,
    config: EngineConfig,
    book: PaperBook,
    prices: LastPrices,
    *,
    feed: QuoteFeed | None = None,
    strategy: Strategy | None = None,
) -> Engine:
    """The engine trading through `commands` on the paper `book`, keeping `prices`
    current; `feed`/`strategy` replace the configured ones."""

    def record_fill(fill: FillInput) -> FillResult:
        return commands.orders.record_fill(fill)  # looked up per call: wrappers see every fill

    broker = PaperBroker(
        book,
        commands.store,
        record_fill,
        PaperPricing(config.slippage_bps, config.commission_per_fill, config.commission_bps),
    )
    orders = OpenOrders(commands.store)
    limits = RiskLimits(
        min_strength=config.min_strength,
        max_position=config.max_position,
        max_open_orders=config.max_open_orders,
        cooldown=config.signal_cooldown,
        sizing=config.sizing,
        order_quantity=config.order_quantity,
    )
    if strategy is None:
        strategy = load_strategy(
            config.strategy,
            StrategyConfig(
                instruments=config.instruments,
                fast_window=config.fast_window,
                slow_window=config.slow_window,
                options=config.strategy_options,
            ),
        )
    return Engine(
        commands=commands,
        config=config,
        feed=feed if feed is not None else open_feed(config),
        strategy=strategy,
        handler=SignalHandler(
            commands,
            limits,
            orders,
            account=config.account,
            signal_ttl_seconds=config.signal_ttl.total_seconds(),
        ),
        broker=broker,
        orders=orders,
        protection=ProtectionPolicy(
            commands, Protection(config.stop_loss_fraction, config.take_profit_fraction)
        ),
        sweeper=ExpirySweeper(commands),
        prices=prices,
        closers=[book.close],
    )
