"""`tradestate db`: the store's schema (read-model migrations) and compatibility."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from infrastructure.compatibility import IncompatibleStore
from interfaces.cli.options import ConfigOption, DbOption, fail, settings_from
from interfaces.cli.render import progress_bars
from interfaces.composition import build_system

app = typer.Typer(help="Database schema: migrations and compatibility.", no_args_is_help=True)


@app.command()
def upgrade(db: DbOption = None, config: ConfigOption = None) -> None:
    """Create or migrate the event store and the read-model tables (alembic)."""
    from infrastructure.migrate import upgrade as migrate

    settings = settings_from(db, config)
    try:
        system = build_system(settings)
    except IncompatibleStore as error:
        fail(str(error))
        return
    try:
        # A store older than the transparency log gets its tree from its log.
        with progress_bars() as progress:
            added = system.transparency.catch_up(progress)
        if added:
            system.transparency.write_head()
    finally:
        system.close()
    migrate(settings.database_url)
    if added:
        typer.echo(f"transparency log: {added} events added from the log")
    typer.echo(f"database {system.url.describe()} is up to date")


@app.command()
def check(db: DbOption = None, config: ConfigOption = None) -> None:
    """Check that this code can read every event type and version in the store."""
    settings = settings_from(db, config)
    try:
        system = build_system(settings)
    except IncompatibleStore as error:
        fail(str(error))
        return
    system.close()
    typer.echo("every stored event type and version can be read")


@app.command()
def backup(
    path: Annotated[Path, typer.Argument(help="Where to write the copy (must not exist).")],
    db: DbOption = None,
    config: ConfigOption = None,
) -> None:
    """A consistent online copy of the SQLite store (safe while a server writes).

    On PostgreSQL use pg_dump, and check a restored copy with `audit verify`
    (see the README)."""
    from infrastructure.backup import BackupError, backup_sqlite
    from infrastructure.database import DatabaseUrl

    settings = settings_from(db, config)
    url = DatabaseUrl(settings.database_url)
    if not url.is_sqlite:
        fail(
            "db backup copies SQLite stores; on PostgreSQL use pg_dump "
            "(see the README: Backups), then `tradestate audit verify` on the restored copy"
        )
        return
    try:
        made = backup_sqlite(url.sqlite_path, path)
    except BackupError as error:
        fail(str(error))
        return
    typer.echo(
        f"backed up {url.describe()} to {made.path}: events up to sequence "
        f"{made.last_sequence}, {made.bytes} bytes"
    )
