"""Composition of the trading engine: the application's engine services wired
to the infrastructure adapters (paper broker, market-data feeds)."""

from __future__ import annotations

from typing import Any

from application.engine.config import EngineConfig
from application.engine.expiry import ExpirySweeper
from application.engine.feed import QuoteFeed
from application.engine.handler import SignalHandler
from application.engine.market import LastPrices, LogPositionDirectory
from application.engine.orders import OpenOrders
from application.engine.protection import Protection, ProtectionPolicy
from application.engine.risk import RiskLimits
from application.engine.runner import Engine, EngineHost
from application.engine.strategy import Strategy, StrategyConfig, load_strategy
from application.inputs import FillInput
from infrastructure.broker.book import PaperBook
from infrastructure.broker.paper import PaperBroker
from infrastructure.broker.pricing import PaperPricing
from infrastructure.feeds import open_feed


def build_engine(
    system: EngineHost,
    settings: Any,
    *,
    feed: QuoteFeed | None = None,
    strategy: Strategy | None = None,
) -> Engine:
    """The engine for `system`, configured by the `engine_*`, `paper_*` and
    `reconcile_*` settings; `feed`/`strategy` replace the configured ones.

    Where the application has no broker, position directory or market prices yet,
    the engine lends it its own (the paper broker, the log's positions, the feed's
    last prices), so `reconcile` and `arm_monitor` work while it runs, and starts
    the host's policies: the monitor policy (unless another process on the store
    runs it) and the runner of reconciliations requested by broker-less processes.
    """

    config = EngineConfig.from_settings(settings)
    app = system.app
    url = getattr(system.url, "raw", system.url)
    book = PaperBook.at(str(url))
    host_closers = getattr(system, "closers", None)
    if isinstance(host_closers, list):
        host_closers.append(book.close)  # the System's close() disposes of the book too

    def record_fill(fill: FillInput) -> object:
        return app.record_fill(fill)  # looked up per call: wrappers see every fill

    broker = PaperBroker(
        book,
        app,
        record_fill,
        PaperPricing(config.slippage_bps, config.commission_per_fill, config.commission_bps),
    )
    prices = LastPrices()
    if app.broker is None:
        app.broker = broker
    if app.position_directory is None:
        app.position_directory = LogPositionDirectory(app)
    if app.market_prices is None:
        app.market_prices = prices
    start_policies = getattr(system, "start_policies", None)
    if start_policies is not None:
        start_policies()  # monitors evaluated, and requested reconciliations run, here
    orders = OpenOrders(app)
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
        app=app,
        config=config,
        feed=feed if feed is not None else open_feed(config),
        strategy=strategy,
        handler=SignalHandler(
            app,
            limits,
            orders,
            account=config.account,
            signal_ttl_seconds=config.signal_ttl.total_seconds(),
        ),
        broker=broker,
        orders=orders,
        protection=ProtectionPolicy(
            app, Protection(config.stop_loss_fraction, config.take_profit_fraction)
        ),
        sweeper=ExpirySweeper(app),
        prices=prices,
        closers=[book.close],
    )
