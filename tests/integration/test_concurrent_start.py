"""Processes started together on a fresh PostgreSQL database all come up: creating the
event store's tables, types and functions is serialized (it used to fail with "tuple
concurrently updated" or a duplicate pg_type row in about one start out of five)."""

from __future__ import annotations

import multiprocessing

import pytest

from tests.integration.conftest import fresh_postgres_database

pytestmark = pytest.mark.postgres
PROCESSES = 6


def start(url: str, barrier: multiprocessing.synchronize.Barrier) -> None:
    from infrastructure.settings import load_settings
    from interfaces.composition import build_system

    barrier.wait(timeout=60)
    build_system(load_settings(database_url=url), migrate=False).close()


@pytest.mark.parametrize("attempt", range(3))
def test_processes_starting_together_on_a_fresh_database_all_come_up(
    postgres_base_url: str, attempt: int
) -> None:
    context = multiprocessing.get_context("fork")
    with fresh_postgres_database(postgres_base_url) as url:
        barrier = context.Barrier(PROCESSES)
        processes = [context.Process(target=start, args=(url, barrier)) for _ in range(PROCESSES)]
        for process in processes:
            process.start()
        for process in processes:
            process.join(timeout=120)
        assert [p.exitcode for p in processes] == [0] * PROCESSES
