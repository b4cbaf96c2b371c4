"""Which database errors mean "retry later" (UNAVAILABLE) rather than a fault of ours."""

from __future__ import annotations

import sqlite3

import psycopg
import psycopg_pool
import pytest
from eventsourcing.persistence import OperationalError
from sqlalchemy.exc import OperationalError as SqlOperationalError
from sqlalchemy.exc import ProgrammingError

from infrastructure.database import is_unreachable


def wrapped(outer: Exception, inner: Exception) -> Exception:
    try:
        try:
            raise inner
        except Exception as error:
            raise outer from error
    except Exception as error:
        return error


@pytest.mark.parametrize(
    "error",
    [
        psycopg.OperationalError("server closed the connection unexpectedly"),
        psycopg_pool.PoolTimeout("couldn't get a connection after 30.00 sec"),
        OperationalError("terminating connection due to administrator command"),
        sqlite3.OperationalError("database is locked"),
        SqlOperationalError("SELECT 1", {}, psycopg.OperationalError("connection refused")),
        wrapped(RuntimeError("read failed"), psycopg.OperationalError("no route")),
    ],
)
def test_unreachable(error: Exception) -> None:
    assert is_unreachable(error)


@pytest.mark.parametrize(
    "error",
    [
        None,
        ValueError("bad"),
        sqlite3.OperationalError("no such table: rm_positions_a"),
        SqlOperationalError("SELECT", {}, sqlite3.OperationalError("near 'x': syntax error")),
        ProgrammingError("SELECT", {}, Exception("column does not exist")),
    ],
)
def test_our_faults_are_not_unreachable(error: Exception | None) -> None:
    assert not is_unreachable(error)
