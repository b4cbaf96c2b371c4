"""`tradestate`: serve the API, run workers, migrate, replay and audit."""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version
from typing import Annotated

import typer

from interfaces.cli import audit, broker, db, events, projections, replay, serve, watch, worker

app = typer.Typer(
    name="tradestate",
    help="Event-sourced state backend of an automated trading system.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
app.add_typer(db.app, name="db")
app.add_typer(broker.app, name="broker")
app.command("replay")(replay.replay)
app.add_typer(audit.app, name="audit")
app.add_typer(events.app, name="events")
app.add_typer(projections.app, name="projections")
app.command("watch")(watch.watch)
app.command()(worker.worker)
app.command()(serve.serve)


def package_version() -> str:
    try:
        return version("tradestate")
    except PackageNotFoundError:
        return "0+unknown"


def _show_version(value: bool) -> None:
    if value:
        typer.echo(f"tradestate {package_version()}")
        raise typer.Exit()


@app.callback()
def root(
    show_version: Annotated[
        bool,
        typer.Option("--version", callback=_show_version, is_eager=True, help="Print the version."),
    ] = False,
) -> None:
    """Event-sourced state backend of an automated trading system."""


def main() -> None:
    app()
