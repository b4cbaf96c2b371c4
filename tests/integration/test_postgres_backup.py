"""The README's PostgreSQL backup (issue 13, item 13): `pg_dump` of a store, restored
with `pg_restore` into a new database, passes `tradestate audit verify`, and the restored
event log still refuses UPDATE (its append-only triggers came along)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import psycopg
import pytest

from infrastructure.database import DatabaseUrl
from infrastructure.eventstore import POSTGRES_EVENTS_TABLE
from tests.integration.conftest import fresh_postgres_database
from tests.integration.test_cli_replay import populated_store, tradestate

pytestmark = pytest.mark.postgres


def libpq_url(url: str) -> str:
    """The URL pg_dump and psycopg take (no SQLAlchemy driver suffix)."""
    params = DatabaseUrl(url).postgres_params()
    password = f":{params['password']}" if params["password"] else ""
    return f"postgresql://{params['user']}{password}@{params['host']}:{params['port']}/{params['dbname']}"


def test_a_pg_dump_restored_elsewhere_passes_audit_verify(
    postgres_base_url: str, tmp_path: Path
) -> None:
    if shutil.which("pg_dump") is None or shutil.which("pg_restore") is None:
        pytest.skip("pg_dump / pg_restore are not installed")
    dump = tmp_path / "tradestate.dump"
    with fresh_postgres_database(postgres_base_url) as source:
        store = populated_store(source)
        subprocess.run(["pg_dump", "-Fc", "-f", str(dump), libpq_url(source)], check=True)
    with fresh_postgres_database(postgres_base_url) as restored:
        subprocess.run(
            ["pg_restore", "--no-owner", "-d", libpq_url(restored), str(dump)], check=True
        )
        verify = tradestate("audit", "verify", "--db", restored)
        assert verify.returncode == 0, verify.stdout + verify.stderr
        assert f"{store.head} events match their leaves" in verify.stdout
        with psycopg.connect(libpq_url(restored)) as connection, pytest.raises(psycopg.Error):
            connection.execute(f"UPDATE {POSTGRES_EVENTS_TABLE} SET topic = topic")  # noqa: S608
