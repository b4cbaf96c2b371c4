"""Read-model schema migrations (alembic), run by `tradestate db upgrade` and `serve`.

The alembic configuration is built here, so no alembic.ini is needed at run
time: the script location is the installed `migrations` package.
"""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory

import migrations
from infrastructure.database import DatabaseUrl, make_engine

VERSION_TABLE = "rm_alembic_version"


def alembic_config() -> Config:
    """An alembic `Config` pointing at the packaged migrations."""
    config = Config()
    config.set_main_option("script_location", str(Path(migrations.__file__).parent))
    return config


def head_revision() -> str | None:
    """The newest revision the code knows."""
    return ScriptDirectory.from_config(alembic_config()).get_current_head()


def upgrade(url: str) -> None:
    """Bring the read-model schema of database `url` to the newest revision.

    One transaction under a lock: safe when several processes start at once,
    and a no-op when the schema is already current.
    """
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
    engine = make_engine(DatabaseUrl(url))
    try:
        with engine.connect() as connection:
            context = MigrationContext.configure(connection, opts={"version_table": VERSION_TABLE})
            return context.get_current_revision()
    finally:
        engine.dispose()
