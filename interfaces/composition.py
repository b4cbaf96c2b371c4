"""The composition root: builds the object graph from Settings. Nothing else
reads configuration; every adapter is a parameter with a production default."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Engine

from application.ports import BrokerPositions, Clock, MarketPrices, PositionDirectory, utc_now
from application.trading import TradingApplication
from infrastructure.compatibility import check_compatibility
from infrastructure.database import DatabaseUrl, make_engine
from infrastructure.eventstore import event_store_env
from infrastructure.projections import ProjectionGroup
from infrastructure.readmodels.queries import ReadModels
from infrastructure.settings import Settings


@dataclass
class System:
    settings: Settings
    url: DatabaseUrl
    engine: Engine
    app: TradingApplication
    read: ReadModels
    projections: ProjectionGroup
    closers: list[Any] = field(default_factory=list)

    def close(self) -> None:
        for closer in reversed(self.closers):
            closer()
        if self.projections.running:
            self.projections.stop()
        self.app.close()
        self.engine.dispose()


def build_system(
    settings: Settings,
    *,
    clock: Clock = utc_now,
    broker: BrokerPositions | None = None,
    position_directory: PositionDirectory | None = None,
    market_prices: MarketPrices | None = None,
    check: bool = True,
    migrate: bool = True,
) -> System:
    """Open the store named by the settings, check it can be read, migrate the
    read models, build the app and (unstarted) projection runners."""
    url = DatabaseUrl(settings.database_url)
    engine = make_engine(url)
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
    )
    projections = ProjectionGroup(
        engine,
        app.recorder,
        app.mapper,
        stale_after=settings.stale_after_seconds,
        advisory_locks=url.is_postgres,
    )
    return System(
        settings=settings,
        url=url,
        engine=engine,
        app=app,
        read=ReadModels(engine),
        projections=projections,
    )
