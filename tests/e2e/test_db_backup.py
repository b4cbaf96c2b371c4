"""`tradestate db backup` (issue 13, item 13): a copy taken while a real server writes
holds every event up to its last one, byte for byte, and passes `audit verify`; a
plain file copy of a WAL-mode store does not promise that."""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path

import pytest

from infrastructure.eventstore import SQLITE_EVENTS_TABLE
from tests.e2e.server import Server, running_server
from tests.integration.test_cli_replay import tradestate

pytestmark = pytest.mark.e2e

PLACE = """mutation($input: OrderInput!) { placeOrder(input: $input) { order { id } } }"""
FILL = """mutation($input: FillInput!) { recordFill(input: $input) { sequence } }"""
INGEST = "mutation($q: [QuoteInput!]!) { ingestQuotes(quotes: $q) { sequence } }"


def events(path: Path, upto: int | None = None) -> list[tuple]:
    connection = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        columns = "rowid, originator_id, originator_version, topic, state"
        query = f"SELECT {columns} FROM {SQLITE_EVENTS_TABLE}"  # noqa: S608 - constants
        if upto is not None:
            query += f" WHERE rowid <= {int(upto)}"
        return connection.execute(query + " ORDER BY rowid").fetchall()
    finally:
        connection.close()


def write_until(server: Server, stop: threading.Event, written: list[int]) -> None:
    i = 0
    while not stop.is_set():
        order = server.data(
            PLACE,
            {
                "input": {
                    "clientOrderId": f"b-{i}",
                    "instrument": "BKP",
                    "side": "BUY",
                    "quantity": "1",
                }
            },
        )["placeOrder"]["order"]
        server.data(
            FILL,
            {
                "input": {
                    "orderId": order["id"],
                    "fillId": f"bf-{i}",
                    "quantity": "1",
                    "price": "10",
                }
            },
        )
        server.data(INGEST, {"q": [{"instrument": "BKP", "last": str(10 + i % 7)}] * 50})
        written.append(i)
        i += 1


def test_a_backup_under_concurrent_writes_is_consistent_and_passes_audit(tmp_path: Path) -> None:
    live = tmp_path / "live"
    live.mkdir()
    with running_server(live) as server:
        source = Path(server.db.removeprefix("sqlite:///"))
        stop = threading.Event()
        written: list[int] = []
        writer = threading.Thread(target=write_until, args=(server, stop, written), daemon=True)
        writer.start()
        try:
            while len(written) < 20:
                assert writer.is_alive()
                threading.Event().wait(0.05)
            copies = []
            for n in range(2):
                copy = tmp_path / f"copy-{n}.db"
                result = tradestate("db", "backup", str(copy), "--db", server.db)
                assert result.returncode == 0, result.stdout + result.stderr
                assert "events up to sequence" in result.stdout
                assert writer.is_alive(), "the writes must go on during the copy"
                copies.append(copy)
        finally:
            stop.set()
            writer.join(timeout=60)
        for copy in copies:
            copied = events(copy)
            assert len(copied) > 0
            last = copied[-1][0]
            assert copied == events(source, upto=last), "the copy differs from the store"
            assert [row[0] for row in copied] == list(range(1, last + 1))
            assert not Path(f"{copy}-wal").exists()
        assert len(events(source)) > len(events(copies[0])), "writes went on after the copy"
    for copy in copies:
        verify = tradestate("audit", "verify", "--db", f"sqlite:///{copy}")
        assert verify.returncode == 0, verify.stdout + verify.stderr


def test_a_backup_never_overwrites_and_postgres_is_pointed_to_pg_dump(tmp_path: Path) -> None:
    source = tmp_path / "store.db"
    assert tradestate("db", "upgrade", "--db", f"sqlite:///{source}").returncode == 0
    existing = tmp_path / "taken.db"
    existing.write_bytes(b"keep me")
    refused = tradestate("db", "backup", str(existing), "--db", f"sqlite:///{source}")
    assert refused.returncode == 1 and "exists" in refused.stderr
    assert existing.read_bytes() == b"keep me"
    on_postgres = tradestate(
        "db", "backup", str(tmp_path / "x.db"), "--db", "postgresql://u@127.0.0.1:1/x"
    )
    assert on_postgres.returncode == 1 and "pg_dump" in on_postgres.stderr
