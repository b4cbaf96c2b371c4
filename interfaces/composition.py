"""The composition root: builds the whole object graph from Settings, once. Nothing
else reads configuration or builds a service; every adapter is a parameter with a
production default, and nothing is replaced after construction."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from eventsourcing.persistence import ApplicationRecorder
from sqlalchemy import Engine

from application.commands import Commands
from application.engine.config import EngineConfig
from application.engine.feed import QuoteFeed
from application.engine.market import LastPrices, LogPositionDirectory
from application.engine.runner import Engine as TradingEngine
from application.engine.strategy import Strategy
from application.policies.monitors import MonitorPolicy
from application.policies.reconciliation import ReconciliationRequests
from application.ports import BrokerPositions, Clock, MarketPrices, PositionDirectory, utc_now
from infrastructure.database import DatabaseUrl, make_query_engine
from infrastructure.instruments import spec_table
from infrastructure.metrics import count_recorded
from infrastructure.policies import PolicyThread, StoreLock, store_lock
from infrastructure.projections.group import ProjectionGroup
from infrastructure.readmodels.queries import ReadModels
from infrastructure.settings import Settings
from infrastructure.transparency.appender import TreeAppender
from infrastructure.transparency.follower import TreeFollower
from infrastructure.transparency.heads import HeadSigner
from interfaces.store_access import StoreAccess, open_store


@dataclass(frozen=True)
class System(StoreAccess):
    """Everything one process runs, built by `build_system`: the store it opened
    (`StoreAccess`: settings, url, engine, app) and what runs on it."""

    commands: Commands  # every command: `commands.orders.record_fill(...)`
    read: ReadModels
    projections: ProjectionGroup
    monitors: PolicyThread
    reconciler: PolicyThread
    transparency: TreeAppender
    trading_engine: TradingEngine | None = None  # with `build_system(..., trading=True)`
    closers: list[Callable[[], None]] = field(default_factory=list)

    def start_policies(self) -> None:
        """Evaluate monitors here (when no other process on the store does), and take
        reconciliation requests when this process has a broker. Idempotent."""
        self.monitors.start()
        if self.commands.reconciliation.broker is not None:
            self.reconciler.start()

    def close(self) -> None:
        self.monitors.stop()
        self.reconciler.stop()
        for closer in reversed(self.closers):
            closer()
        if self.projections.running:
            self.projections.stop()
        super().close()
        self.read.engine.dispose()  # the query engine (PostgreSQL), if not the same


def build_system(
    settings: Settings,
    *,
    clock: Clock = utc_now,
    broker: BrokerPositions | None = None,
    position_directory: PositionDirectory | None = None,
    market_prices: MarketPrices | None = None,
    check: bool = True,
    migrate: bool = True,
    record_specs: bool = False,
    trading: bool = False,
    feed: QuoteFeed | None = None,
    strategy: Strategy | None = None,
) -> System:
    """Open the store named by the settings, check it can be read, migrate the
    read models, build the commands and (unstarted) projection runners and policies.
    With `record_specs` the settings' instrument specs are recorded when they differ
    from the store's.

    With `trading`, also the (unstarted) trading engine configured by the `engine_*`,
    `paper_*` and `reconcile_*` settings (`feed`/`strategy` replace the configured
    ones). Where no broker, position directory or market prices are given, the
    commands then use the engine's (the paper book, the log's positions, the feed's
    last prices), so `reconcile` and `arm_monitor` work while it runs."""
    access = open_store(
        settings, clock=clock, observers=[count_recorded], check=check, migrate=migrate
    )
    url, engine, store = access.url, access.engine, access.app
    queries = make_query_engine(url, engine, settings.query_timeout_seconds)
    closers: list[Callable[[], None]] = []
    prices = LastPrices()
    book = None
    if trading:
        from infrastructure.broker.book import PaperBook  # only where an engine runs

        book = PaperBook.at(url.raw)
        closers.append(book.close)
        if broker is None:
            broker = book
        if position_directory is None:
            position_directory = LogPositionDirectory(store)
        if market_prices is None:
            market_prices = prices
    reconciler_lock = store_lock(url, engine, ReconciliationRequests.name)
    commands = Commands.build(
        store,
        instrument_specs=spec_table(settings.instruments, settings.currency_places),
        broker=broker,
        position_directory=position_directory,
        market_prices=market_prices,
        broker_presence=LockPresence(reconciler_lock),
        default_account=settings.default_account,
        default_signal_quantity=settings.default_signal_quantity,
    )
    if record_specs:
        commands.instruments.record_instrument_specs()
    trading_engine = None
    if book is not None:
        from interfaces.engine import build_engine  # the feeds and the paper broker

        trading_engine = build_engine(
            commands,
            EngineConfig.from_settings(settings),
            book,
            prices,
            feed=feed,
            strategy=strategy,
        )
    transparency = tree_appender(settings, engine, store.recorder, url)
    projections = ProjectionGroup(
        engine,
        store.recorder,
        store.mapper,
        stale_after=settings.stale_after_seconds,
        advisory_locks=url.is_postgres,
        status_engine=queries,
        companions=[TreeFollower(transparency, lock=url.is_postgres)],
    )
    return System(
        settings=settings,
        url=url,
        engine=engine,
        app=store,
        commands=commands,
        read=ReadModels(queries),
        projections=projections,
        monitors=PolicyThread(
            store.recorder, MonitorPolicy(commands), store_lock(url, engine, MonitorPolicy.name)
        ),
        reconciler=PolicyThread(store.recorder, ReconciliationRequests(commands), reconciler_lock),
        transparency=transparency,
        trading_engine=trading_engine,
        closers=closers,
    )


def tree_appender(
    settings: Settings, engine: Engine, recorder: ApplicationRecorder, url: DatabaseUrl
) -> TreeAppender:
    """The transparency log's appender, signing heads when a key file is set."""
    key_file = settings.transparency_signing_key_file
    return TreeAppender(
        engine,
        recorder,
        url,
        signer=HeadSigner.from_file(key_file) if key_file is not None else None,
        head_every_events=settings.transparency_head_every_events,
        head_every_seconds=settings.transparency_head_every_seconds,
    )


@dataclass(frozen=True)
class LockPresence:
    """A broker is somewhere when some process holds the reconciliation-requests lock."""

    lock: StoreLock

    def available(self) -> bool:
        return self.lock.held_anywhere()
