"""`tradestate worker`: the projections (and optionally the engine) without the API."""

from __future__ import annotations

import signal
import threading
from typing import Annotated

import typer

from infrastructure.compatibility import IncompatibleStore
from interfaces.cli.options import ConfigOption, DbOption, fail, settings_from
from interfaces.composition import build_system


def worker(
    db: DbOption = None,
    config: ConfigOption = None,
    engine: Annotated[
        bool, typer.Option("--engine", help="Also run the trading engine (feed, strategy, broker).")
    ] = False,
) -> None:
    """Run the projections until SIGINT/SIGTERM; with PostgreSQL, several workers
    share the work (one active runner per projection)."""
    settings = settings_from(db, config)
    try:
        system = build_system(settings, record_specs=True, trading=engine)
    except IncompatibleStore as error:
        fail(str(error))
        return
    stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop.set())
    system.projections.start()
    system.start_policies()
    runner = system.trading_engine
    if runner is not None:
        runner.start()
    typer.echo(f"worker running on {system.url.describe()}", err=True)
    stop.wait()
    if runner is not None:
        runner.stop()
    system.close()
    typer.echo("worker stopped cleanly", err=True)
