"""The store alone, opened the way `build_system` opens it: checked, migrated.

`build_system` (interfaces/composition.py) starts here, then builds the commands,
projections, policies, transparency appender and engine. The commands that only
read the log and rebuild read models aside (`replay`, `events`) stop here: what
the rest imports and builds was most of their start-up, and they use none of it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import Engine

from application.ports import Clock, utc_now
from application.store import RecordingObserver, Store
from infrastructure.compatibility import check_compatibility
from infrastructure.database import DatabaseUrl, make_engine
from infrastructure.eventstore import event_store_env
from infrastructure.migrate import upgrade_unless_current
from infrastructure.settings import Settings


@dataclass(frozen=True)
class StoreAccess:
    """The store named by the settings: its engine and its event store."""

    settings: Settings
    url: DatabaseUrl
    engine: Engine  # the store's SQLAlchemy engine
    app: Store  # the event store (eventsourcing Application): recorder, mapper, saves

    def close(self) -> None:
        self.app.close()
        self.engine.dispose()


def open_store(
    settings: Settings,
    *,
    clock: Clock = utc_now,
    observers: Sequence[RecordingObserver] = (),
    check: bool = True,
    migrate: bool = True,
) -> StoreAccess:
    """Open the store named by the settings; with `check`, refuse one holding events
    this code cannot read; with `migrate`, bring its read models to the newest schema."""
    url = DatabaseUrl(settings.database_url)
    engine = make_engine(url)
    if check:
        check_compatibility(engine, url)
    if migrate:
        upgrade_unless_current(engine, settings.database_url)
    store = Store(
        env=event_store_env(url, cache_size=settings.aggregate_cache_size),
        clock=clock,
        observers=observers,
    )
    return StoreAccess(settings=settings, url=url, engine=engine, app=store)
