"""Fixtures starting real `tradestate serve` processes (see server.py)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.server import Server, running_server

READER = "reader-secret-token"
TRADER = "trader-secret-token"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """A server with no tokens (loopback only), its own SQLite store."""
    with running_server(
        tmp_path_factory.mktemp("server"), min_sequence_timeout_seconds="1"
    ) as started:
        yield started


@pytest.fixture(scope="module")
def guarded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """A server with reader and trader tokens; its client carries no token."""
    with running_server(
        tmp_path_factory.mktemp("guarded"),
        reader_token=READER,
        trader_token=TRADER,
        allowed_origins='["http://allowed.example"]',
    ) as started:
        yield started


@pytest.fixture
def postgres_url() -> str:
    url = os.environ.get("TRADESTATE_TEST_POSTGRES_URL")
    if not url:
        pytest.skip("TRADESTATE_TEST_POSTGRES_URL is not set; PostgreSQL e2e tests skipped")
    return url


@pytest.fixture
def tmp(tmp_path: Path) -> Path:
    return tmp_path
