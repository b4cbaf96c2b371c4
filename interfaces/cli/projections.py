"""`tradestate projections status`: how far each projection has read, and its health."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from enum import StrEnum
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from infrastructure.logging import configure_logging
from interfaces.cli.options import ConfigOption, DbOption, settings_from
from interfaces.composition import System, build_system

app = typer.Typer(help="The projections that build the read models.", no_args_is_help=True)


class Format(StrEnum):
    table = "table"
    json = "json"


def _stale(system: System, name: str, lag: int) -> bool:
    """Behind for longer than the threshold: tracking has not moved for that long.

    (The group's own staleness clock only runs inside the process running it.)"""
    if lag == 0:
        return False
    moved = system.read.tracked_at(name)
    if moved is None:
        return True
    age = (datetime.now(UTC) - moved).total_seconds()
    return age > system.settings.stale_after_seconds


def _states(system: System) -> list[dict[str, Any]]:
    return [
        {
            "name": state.name,
            "sequence": state.sequence,
            "lag": state.lag,
            "stale": state.stale or _stale(system, state.name, state.lag),
            "error": state.error,
        }
        for state in system.projections.status()
    ]


@app.command()
def status(
    output: Annotated[Format, typer.Option("--format", help="Output format.")] = Format.table,
    db: DbOption = None,
    config: ConfigOption = None,
) -> None:
    """Sequence, lag (head − sequence), staleness and error of every projection."""
    settings = settings_from(db, config)
    configure_logging(settings)
    system = build_system(settings)
    try:
        head = system.projections.head_sequence()
        states = _states(system)
    finally:
        system.close()
    if output is Format.json:
        typer.echo(json.dumps({"headSequence": head, "projections": states}))
        return
    table = Table(title=f"projections (head sequence {head})", title_justify="left")
    for column in ("name", "sequence", "lag", "stale", "error"):
        table.add_column(column, overflow="fold")
    for s in states:
        stale = "[red]yes[/red]" if s["stale"] else "no"
        error = f"[red]{s['error']}[/red]" if s["error"] else ""
        table.add_row(s["name"], str(s["sequence"]), str(s["lag"]), stale, error)
    Console().print(table)
