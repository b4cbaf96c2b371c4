"""Options shared by every sub-command, and the one way commands get Settings."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from infrastructure.settings import Settings, load_settings

DbOption = Annotated[
    str | None,
    typer.Option(
        "--db",
        help="Database URL: sqlite:///PATH or postgresql://... "
        "(default: TRADESTATE_DATABASE_URL or sqlite:///./tradestate.db)",
    ),
]
ConfigOption = Annotated[
    Path | None, typer.Option("--config", help="A TOML or YAML settings file.")
]


def settings_from(db: str | None, config: Path | None, **overrides: object) -> Settings:
    try:
        return load_settings(config, database_url=db, **overrides)
    except (FileNotFoundError, ValueError) as error:
        fail(str(error))
        raise


def fail(message: str, code: int = 1) -> None:
    """Print an error on stderr and exit non-zero."""
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(code)
