"""Alembic environment for the read models.

`infrastructure.migrate` passes an open connection in
`config.attributes["connection"]` and owns its transaction (commits it); the
alembic CLI (developers) passes a URL as the `sqlalchemy.url` option instead.
Either way the whole upgrade is one transaction under a lock.
"""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection

from infrastructure.database import DatabaseUrl, make_engine
from infrastructure.migrate import VERSION_TABLE
from infrastructure.readmodels import metadata
from infrastructure.readmodels.metadata import owned_by_alembic

# Serializes concurrent upgrades (several `serve`/`worker` processes starting
# at once) on PostgreSQL; the value spells "tradesta".
_POSTGRES_LOCK_KEY = 0x7472616465737461


def _take_migration_lock(connection: Connection) -> None:
    """Hold the database's write lock for the whole upgrade.

    SQLite: `BEGIN IMMEDIATE` also makes the DDL transactional, which the
    sqlite3 module does not do by itself.
    """
    if connection.dialect.name == "sqlite":
        connection.exec_driver_sql("BEGIN IMMEDIATE")
    elif connection.dialect.name == "postgresql":
        connection.exec_driver_sql(f"SELECT pg_advisory_xact_lock({_POSTGRES_LOCK_KEY})")


def _run(connection: Connection) -> None:
    _take_migration_lock(connection)
    context.configure(
        connection=connection,
        target_metadata=metadata,
        version_table=VERSION_TABLE,
        transactional_ddl=True,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
        include_name=owned_by_alembic,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection = context.config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    url = context.config.get_main_option("sqlalchemy.url")
    if not url:
        raise RuntimeError("no database: pass a connection or set the sqlalchemy.url option")
    engine = make_engine(DatabaseUrl(url))
    try:
        with engine.begin() as own_connection:
            _run(own_connection)
    finally:
        engine.dispose()


if context.is_offline_mode():
    raise RuntimeError("offline (--sql) migrations are not supported for the read models")
run_migrations_online()
