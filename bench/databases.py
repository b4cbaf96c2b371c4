"""Scratch databases for one scenario: a SQLite file, or a new PostgreSQL database
beside the one given (created from its URL, dropped after)."""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from uuid import uuid4

import psycopg
from psycopg import sql
from sqlalchemy.engine import make_url

from infrastructure.database import DatabaseUrl


def _admin(base_url: str) -> psycopg.Connection:
    params = DatabaseUrl(base_url).postgres_params()
    params.pop("schema")
    if not params["password"]:
        params.pop("password")
    return psycopg.connect(**params, autocommit=True)


@contextmanager
def scratch_postgres(base_url: str) -> Iterator[str]:
    name = f"tradestate_bench_{uuid4().hex[:12]}"
    with _admin(base_url) as admin:
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    try:
        yield make_url(base_url).set(database=name).render_as_string(hide_password=False)
    finally:
        with _admin(base_url) as admin:
            admin.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )


@contextmanager
def scratch_sqlite() -> Iterator[str]:
    with tempfile.TemporaryDirectory(prefix="tradestate-bench-") as directory:
        yield f"sqlite:///{Path(directory) / 'bench.db'}"


@contextmanager
def scratch(engine: str, postgres_url: str | None) -> Iterator[str]:
    """A fresh, empty database of `engine` ("sqlite" or "postgres")."""
    if engine == "sqlite":
        with scratch_sqlite() as url:
            yield url
    else:
        assert postgres_url is not None
        with scratch_postgres(postgres_url) as url:
            yield url
