"""The composition root: builds the object graph from Settings. Nothing else
reads configuration; every adapter is a parameter with a production default."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Engine

from application.policies.monitors import MonitorPolicy
from application.policies.reconciliation import ReconciliationRequests
from application.ports import BrokerPositions, Clock, MarketPrices, PositionDirectory, utc_now
from application.trading import TradingApplication
from infrastructure.compatibility import check_compatibility
from infrastructure.database import DatabaseUrl, make_engine, make_query_engine
from infrastructure.eventstore import event_store_env
from infrastructure.instruments import spec_table
from infrastructure.metrics import count_recorded
from infrastructure.policies import PolicyThread, StoreLock, store_lock
from infrastructure.projections import ProjectionGroup
from infrastructure.readmodels.queries import ReadModels
from infrastructure.settings import Settings
from infrastructure.transparency.appender import TreeAppender
from infrastructure.transparency.follower import TreeFollower
from infrastructure.transparency.heads import HeadSigner


@dataclass
class System:
    settings: Settings
    url: DatabaseUrl
    engine: Engine
    app: TradingApplication
    read: ReadModels
    projections: ProjectionGroup
    monitors: PolicyThread
    reconciler: PolicyThread
    transparency: TreeAppender
    closers: list[Any] = field(default_factory=list)

    def start_policies(self) -> None:
        """Evaluate monitors here (when no other process on the store does), and take
        reconciliation requests when this process has a broker. Idempotent."""
        self.monitors.start()
        if self.app.broker is not None:
            self.reconciler.start()

    def close(self) -> None:
        self.monitors.stop()
        self.reconciler.stop()
        for closer in reversed(self.closers):
            closer()
        if self.projections.running:
            self.projections.stop()
        self.app.close()
        self.engine.dispose()
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
) -> System:
    """Open the store named by the settings, check it can be read, migrate the
    read models, build the app and (unstarted) projection runners. With `record_specs`
    the settings' instrument specs are recorded when they differ from the store's."""
    url = DatabaseUrl(settings.database_url)
    engine = make_engine(url)
    queries = make_query_engine(url, engine, settings.query_timeout_seconds)
    if check:
        check_compatibility(engine, url)
    if migrate:
        from infrastructure.migrate import upgrade  # alembic: only for commands that migrate

        upgrade(settings.database_url)
    app = TradingApplication(
        env=event_store_env(url, cache_size=settings.aggregate_cache_size),
        clock=clock,
        broker=broker,
        position_directory=position_directory,
        market_prices=market_prices,
        default_account=settings.default_account,
        default_signal_quantity=settings.default_signal_quantity,
        instrument_specs=spec_table(settings.instruments, settings.currency_places),
    )
    app.observe(count_recorded)
    if record_specs:
        app.record_instrument_specs()
    transparency = tree_appender(settings, engine, app.recorder, url)
    projections = ProjectionGroup(
        engine,
        app.recorder,
        app.mapper,
        stale_after=settings.stale_after_seconds,
        advisory_locks=url.is_postgres,
        status_engine=queries,
        companions=[TreeFollower(transparency, lock=url.is_postgres)],
    )
    reconciler_lock = store_lock(url, engine, ReconciliationRequests.name)
    app.broker_presence = LockPresence(reconciler_lock)
    return System(
        settings=settings,
        url=url,
        engine=engine,
        app=app,
        read=ReadModels(queries),
        projections=projections,
        monitors=PolicyThread(
            app.recorder, MonitorPolicy(app), store_lock(url, engine, MonitorPolicy.name)
        ),
        reconciler=PolicyThread(
            app.recorder,
            ReconciliationRequests(app),
            reconciler_lock,
        ),
        transparency=transparency,
    )


def tree_appender(
    settings: Settings, engine: Engine, recorder: Any, url: DatabaseUrl
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
