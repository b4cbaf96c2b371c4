"""Database URLs and SQLAlchemy engines for the read models.

One setting (`TRADESTATE_DATABASE_URL`) names the store: `sqlite:///PATH` or
`postgresql://...`. The event store (eventsourcing) and the read models
(SQLAlchemy) live in the same database.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from importlib import import_module
from pathlib import Path
from typing import Any
from uuid import uuid4

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url


@dataclass(frozen=True)
class DatabaseUrl:
    """A parsed `TRADESTATE_DATABASE_URL`."""

    raw: str

    @property
    def is_sqlite(self) -> bool:
        return self.raw.startswith("sqlite:")

    @property
    def is_postgres(self) -> bool:
        return self.raw.startswith(("postgresql:", "postgres:", "postgresql+"))

    @property
    def sqlite_path(self) -> str:
        """The file path (or `:memory:`) of a SQLite URL."""
        path = make_url(self.raw).database or ":memory:"
        return path

    @property
    def sqlalchemy(self) -> str:
        """The URL with the driver SQLAlchemy should use."""
        if self.is_postgres:
            url = make_url(self.raw).set(drivername="postgresql+psycopg")
            schema = url.query.get("schema")
            if schema:
                # libpq has no `schema` parameter: select it by search_path.
                options = f"{url.query.get('options', '')} -csearch_path={schema}".strip()
                url = url.difference_update_query(["schema"]).update_query_dict(
                    {"options": options}
                )
            return url.render_as_string(hide_password=False)
        return self.raw

    def postgres_params(self) -> dict[str, Any]:
        url = make_url(self.raw)
        return {
            "host": url.host or "127.0.0.1",
            "port": str(url.port or 5432),
            "user": url.username or "postgres",
            "password": url.password or "",
            "dbname": url.database or "postgres",
            "schema": url.query.get("schema", "public"),
        }

    def describe(self) -> str:
        """A printable name with any password hidden."""
        if self.is_sqlite:
            return f"sqlite:{Path(self.sqlite_path)}"
        return make_url(self.raw).render_as_string(hide_password=True)


_BUSY_TIMEOUT_SECONDS = 30.0


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute(f"PRAGMA busy_timeout={int(_BUSY_TIMEOUT_SECONDS * 1000)}")
        _switch_to_wal(cursor)
        cursor.execute("PRAGMA synchronous=NORMAL")
    finally:
        cursor.close()


def _switch_to_wal(cursor: Any) -> None:
    """Turn on WAL, waiting for other connections' locks.

    Switching the journal mode fails at once with "database is locked", busy
    timeout or not, while another process holds a lock on the file, as when
    several processes open a fresh database together; so retry.
    """
    deadline = time.monotonic() + _BUSY_TIMEOUT_SECONDS
    while True:
        try:
            cursor.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as error:
            if "locked" not in str(error) or time.monotonic() > deadline:
                raise
            time.sleep(0.01)


def is_unreachable(error: BaseException | None) -> bool:
    """The database could not be reached or could not answer now (connection lost,
    server restarting, pool exhausted, SQLite busy): the same request may succeed
    when retried. Looks through the chain of causes."""
    import psycopg
    import psycopg_pool
    from eventsourcing.persistence import InterfaceError, OperationalError
    from sqlalchemy.exc import DBAPIError
    from sqlalchemy.exc import OperationalError as SqlOperationalError

    seen = 0
    while error is not None and seen < 8:
        if isinstance(error, DBAPIError):
            if isinstance(error, SqlOperationalError) or error.connection_invalidated:
                return not _sqlite_mistake(error.orig)
        elif isinstance(
            error,
            OperationalError
            | InterfaceError
            | psycopg.OperationalError
            | psycopg.InterfaceError
            | psycopg_pool.PoolTimeout,
        ):
            return True
        elif isinstance(error, sqlite3.OperationalError):
            return not _sqlite_mistake(error)
        error, seen = error.__cause__ or error.__context__, seen + 1
    return False


def _sqlite_mistake(error: BaseException | None) -> bool:
    """A SQLite OperationalError that is a fault of ours (no such table, syntax),
    not a busy or locked database."""
    if not isinstance(error, sqlite3.OperationalError):
        return False
    text = str(error).lower()
    return not any(word in text for word in ("locked", "busy", "unable to open", "disk i/o"))


@contextmanager
def scratch_postgres_database(base_url: str, prefix: str = "tradestate_scratch") -> Iterator[str]:
    """Create an empty database beside `base_url`'s (the user may CREATE DATABASE),
    yield its URL, drop it after: for tests and benchmarks."""
    import psycopg
    from psycopg import sql

    def admin() -> psycopg.Connection:
        params = DatabaseUrl(base_url).postgres_params()
        params.pop("schema")
        if not params["password"]:
            params.pop("password")
        return psycopg.connect(**params, autocommit=True)

    name = f"{prefix}_{uuid4().hex[:16]}"
    with admin() as connection:
        connection.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    try:
        yield make_url(base_url).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin() as connection:
            connection.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )


def make_engine(url: DatabaseUrl, **kwargs: Any) -> Engine:
    """An engine for the read models on the given database."""
    if url.is_sqlite:
        engine = create_engine(
            url.sqlalchemy,
            connect_args={"check_same_thread": False, "timeout": _BUSY_TIMEOUT_SECONDS},
            **kwargs,
        )
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    return create_engine(url.sqlalchemy, pool_pre_ping=True, **kwargs)


def make_query_engine(url: DatabaseUrl, engine: Engine, timeout: float) -> Engine:
    """An engine for reads that answer requests: on PostgreSQL each statement gives
    up after `timeout` seconds, waiting for a lock included (another session's
    `LOCK TABLE`, a migration's DDL), so a locked table costs a request an error
    (UNAVAILABLE), not a worker thread and a pooled connection for as long as the
    lock is held. SQLite reads do not wait for writers (WAL): there, `engine` itself."""
    if not url.is_postgres:
        return engine
    engine = make_engine(url, pool_timeout=timeout)
    milliseconds = max(int(timeout * 1000), 1)

    def bound(dbapi_connection: Any, _record: Any) -> None:
        autocommit = dbapi_connection.autocommit
        dbapi_connection.autocommit = True
        try:
            with dbapi_connection.cursor() as cursor:
                cursor.execute(f"SET lock_timeout = {milliseconds}")
                cursor.execute(f"SET statement_timeout = {milliseconds}")
        finally:
            dbapi_connection.autocommit = autocommit

    event.listen(engine, "connect", bound)
    return engine


def conflict_insert(dialect: str) -> Any:
    """The `insert` (with ON CONFLICT) of PostgreSQL or, for any other dialect, SQLite.
    Each is imported when first asked for: importing PostgreSQL's took a tenth of a
    second of every command's start on SQLite."""
    name = "postgresql" if dialect == "postgresql" else "sqlite"
    return import_module(f"sqlalchemy.dialects.{name}").insert
