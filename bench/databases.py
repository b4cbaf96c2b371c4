"""Scratch databases for one scenario: a SQLite file, or a new PostgreSQL database
beside the one given (created from its URL, dropped after)."""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path

from infrastructure.database import scratch_postgres_database


def scratch_postgres(base_url: str) -> AbstractContextManager[str]:
    return scratch_postgres_database(base_url, prefix="tradestate_bench")


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
