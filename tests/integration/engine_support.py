"""Helpers shared by the engine's integration tests and its crash worker."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from application.engine.log import read_log
from application.engine.runner import Engine
from infrastructure.settings import Settings
from interfaces.composition import System
from tests.integration.conftest import fresh_postgres_database, fresh_sqlite_url

QUIET = {
    "engine_strategy": "none",
    "engine_feed": "none",
    "engine_feed_speed": 0,
    "reconcile_interval_seconds": 0,
    "engine_stop_loss_fraction": None,
    "engine_take_profit_fraction": None,
    "engine_expiry_sweep_interval_seconds": 0.2,
}


def engine_settings(url: str, **overrides: Any) -> Settings:
    """Settings for an engine under test; `quiet=True` starts from no feed, no strategy,
    no reconciliation and no automatic stops."""
    values: dict[str, Any] = dict(QUIET) if overrides.pop("quiet", False) else {}
    values.update(overrides)
    return Settings(database_url=url, **values)


def stored(app: Any, *topics: str) -> list[Any]:
    """The stored events of `topics` (all when none), decoded, in log order."""
    return [app.store.mapper.to_domain_event(n) for n in read_log(app.store.recorder, topics)]


def wait_until(condition: Callable[[], bool], timeout: float = 20.0, step: float = 0.05) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {condition}")
        time.sleep(step)


@contextmanager
def another_database(url: str, directory: Path) -> Iterator[str]:
    """A second fresh database on the same engine as `url`."""
    if url.startswith("sqlite"):
        yield fresh_sqlite_url(directory)
        return
    import os

    from tests.integration.conftest import POSTGRES_URL_VARIABLE

    with fresh_postgres_database(os.environ[POSTGRES_URL_VARIABLE]) as other:
        yield other


def started_policies(system: System) -> Engine:
    """The system's trading engine (unstarted), with the system's policies started
    (monitor evaluation, requested reconciliations), as `worker --engine` runs them."""
    engine = system.trading_engine
    assert engine is not None, "build_system(..., trading=True) builds the engine"
    system.start_policies()
    return engine
