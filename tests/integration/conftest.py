"""Engine fixtures for integration tests: the same test runs on SQLite and PostgreSQL.

PostgreSQL tests need `TRADESTATE_TEST_POSTGRES_URL` (a database the user may
`CREATE DATABASE` from); each test gets a database of its own, dropped after.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from pathlib import Path
from uuid import uuid4

import pytest

from infrastructure.database import scratch_postgres_database

POSTGRES_URL_VARIABLE = "TRADESTATE_TEST_POSTGRES_URL"


def fresh_postgres_database(base_url: str) -> contextlib.AbstractContextManager[str]:
    """Create an empty database beside `base_url`'s, yield its URL, drop it after."""
    return scratch_postgres_database(base_url, prefix="tradestate_test")


def fresh_sqlite_url(directory: Path) -> str:
    """The URL of a SQLite file in `directory` that does not exist yet."""
    return f"sqlite:///{directory / f'tradestate-{uuid4().hex[:8]}.db'}"


@pytest.fixture
def postgres_base_url() -> str:
    """The configured PostgreSQL test server, or skip."""
    url = os.environ.get(POSTGRES_URL_VARIABLE)
    if not url:
        pytest.skip(f"{POSTGRES_URL_VARIABLE} is not set")
    return url


@pytest.fixture(
    params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)],
)
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh, empty database per test: a SQLite file, or a new PostgreSQL database."""
    if request.param == "sqlite":
        yield fresh_sqlite_url(tmp_path)
        return
    base_url = request.getfixturevalue("postgres_base_url")
    with fresh_postgres_database(base_url) as url:
        yield url
