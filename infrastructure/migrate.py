"""Read-model schema migrations (alembic), run by `tradestate db upgrade` and `serve`.

The alembic configuration is built here, so no alembic.ini is needed at run
time: the script location is the installed `migrations` package.

Alembic is imported only to migrate. A store already at the newest revision is
recognised without it (`is_current`): the scripts' revisions are read from
their source, and the store's from its version table. Importing alembic and
loading every script took a few tenths of a second of every command's start.
"""

from __future__ import annotations

import ast
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import Engine, column, inspect, select, table

import migrations
from infrastructure.database import DatabaseUrl, make_engine

if TYPE_CHECKING:
    from alembic.config import Config

VERSION_TABLE = "rm_alembic_version"
VERSIONS = Path(migrations.__file__).parent / "versions"


def alembic_config() -> Config:
    """An alembic `Config` pointing at the packaged migrations."""
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(Path(migrations.__file__).parent))
    return config


def head_revision() -> str | None:
    """The newest revision the code knows."""
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(alembic_config()).get_current_head()


def script_heads() -> set[str]:
    """The revisions no script revises (one, unless the history branched), read
    from the scripts' `revision` and `down_revision` without running them; empty
    when a script's are not literals (then only alembic can tell)."""
    revisions: set[str] = set()
    revised: set[str] = set()
    for script in VERSIONS.glob("*.py"):
        if script.name.startswith("__"):
            continue  # alembic reads no revision from __init__.py either
        assigned = _assignments(script)
        revision, down = assigned.get("revision"), assigned.get("down_revision", ())
        if not isinstance(revision, str):
            return set()
        revisions.add(revision)
        revised.update((down,) if isinstance(down, str) else down or ())
    return revisions - revised


def _assignments(script: Path) -> dict[str, Any]:
    """A script's module-level `revision` and `down_revision`, where they are literals."""
    found: dict[str, Any] = {}
    for node in ast.parse(script.read_text(encoding="utf-8")).body:
        if isinstance(node, ast.Assign) and len(node.targets) == 1:
            target, value = node.targets[0], node.value
        elif isinstance(node, ast.AnnAssign) and node.value is not None:
            target, value = node.target, node.value
        else:
            continue
        if isinstance(target, ast.Name) and target.id in ("revision", "down_revision"):
            try:
                found[target.id] = ast.literal_eval(value)
            except ValueError:
                continue
    return found


def stored_revisions(engine: Engine) -> set[str]:
    """The revisions the store's read-model schema is at (empty: never migrated)."""
    if not inspect(engine).has_table(VERSION_TABLE):
        return set()
    version = table(VERSION_TABLE, column("version_num"))
    with engine.connect() as connection:
        return set(connection.scalars(select(version.c.version_num)))


def is_current(engine: Engine) -> bool:
    """Whether the store's read-model schema is at the newest revision the code knows."""
    heads = script_heads()
    return bool(heads) and stored_revisions(engine) == heads


def upgrade_unless_current(engine: Engine, url: str) -> None:
    """`upgrade(url)`, unless the schema is at the newest revision already (then
    the upgrade would do nothing, after importing alembic and loading every script)."""
    if not is_current(engine):
        upgrade(url)


def upgrade(url: str) -> None:
    """Bring the read-model schema of database `url` to the newest revision.

    One transaction under a lock: safe when several processes start at once,
    and a no-op when the schema is already current.
    """
    from alembic import command

    engine = make_engine(DatabaseUrl(url))
    try:
        with engine.begin() as connection:
            config = alembic_config()
            config.attributes["connection"] = connection
            command.upgrade(config, "head")
    finally:
        engine.dispose()


def current_revision(url: str) -> str | None:
    """The revision the read-model schema of database `url` is at (None: never migrated)."""
    from alembic.runtime.migration import MigrationContext

    engine = make_engine(DatabaseUrl(url))
    try:
        with engine.connect() as connection:
            context = MigrationContext.configure(connection, opts={"version_table": VERSION_TABLE})
            return context.get_current_revision()
    finally:
        engine.dispose()
