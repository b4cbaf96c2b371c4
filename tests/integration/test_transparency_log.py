"""The transparency log's tables and life on real SQLite and PostgreSQL: the
database refuses UPDATE and DELETE; a store from before the log gets its tree on
`db upgrade`; signed heads, proofs checked offline and by an independent RFC 9162
verifier; `audit verify` stays green while four processes write."""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
import time
from decimal import Decimal as D
from pathlib import Path

import pytest
from alembic import command
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from application.inputs import FillInput, OrderInput
from infrastructure.database import DatabaseUrl, make_engine
from infrastructure.migrate import alembic_config
from infrastructure.settings import load_settings
from infrastructure.transparency.tables import TABLES
from interfaces.composition import build_system
from tests import rfc9162
from tests.integration.crash_support import ROOT
from tests.integration.test_cli_replay import populated_store, tradestate


@pytest.mark.parametrize("statement", ["UPDATE {t} SET {c} = {c}", "DELETE FROM {t}"])
def test_the_database_refuses_to_change_the_tree(database_url, statement):
    store = populated_store(database_url)
    engine = make_engine(DatabaseUrl(store.url))
    columns = {"tl_leaves": "hash", "tl_nodes": "hash", "tl_heads": "root", "tl_meta": "value"}
    try:
        for table in TABLES:
            with pytest.raises(DBAPIError, match="append-only"), engine.begin() as connection:
                connection.execute(text(statement.format(t=table, c=columns[table])))
    finally:
        engine.dispose()


def test_a_store_from_before_the_log_gets_its_tree_on_upgrade(database_url):
    engine = make_engine(DatabaseUrl(database_url))
    with engine.begin() as connection:
        config = alembic_config()
        config.attributes["connection"] = connection
        command.upgrade(config, "0001")
    engine.dispose()
    system = build_system(load_settings(database_url=database_url), migrate=False)
    app = system.commands
    order = app.orders.place_order(
        OrderInput(client_order_id="old", instrument="OLD", side="BUY", quantity=D(2))
    ).order
    app.orders.record_fill(FillInput(order_id=order.id, fill_id="old-1", quantity=D(2), price=D(5)))
    head = app.store.head_sequence()
    system.close()

    upgraded = tradestate("db", "upgrade", "--db", database_url)
    assert upgraded.returncode == 0, upgraded.stderr
    assert f"transparency log: {head} events added from the log" in upgraded.stdout
    assert "transparency log" in upgraded.stderr  # its progress bar
    result = tradestate("audit", "verify", "--db", database_url)
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"{head} events match their leaves" in result.stdout
    assert (
        f"events before sequence {head + 1} were added to the tree from the log at upgrade"
        in result.stdout
    )


def signed_store(url: str, directory: Path) -> tuple[object, Path, Path]:
    key = directory / "signing.pem"
    made = tradestate("audit", "keygen", "--out", str(key))
    assert made.returncode == 0, made.stderr
    os.environ["TRADESTATE_TRANSPARENCY_SIGNING_KEY_FILE"] = str(key)
    try:
        store = populated_store(url)
    finally:
        del os.environ["TRADESTATE_TRANSPARENCY_SIGNING_KEY_FILE"]
    return store, key, Path(f"{key}.pub")


def prove(url: str, sequence: int, *args: str) -> dict:
    result = tradestate("audit", "prove", str(sequence), "--db", url, *args)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def independently_verified(proof: dict) -> bool:
    """RFC 9162 2.1.3.2 by tests/rfc9162.py, over the event bytes in the proof."""
    leaf = rfc9162.leaf_hash(base64.b64decode(proof["event"]))
    return rfc9162.verify_inclusion(
        proof["leafIndex"],
        proof["treeSize"],
        leaf,
        [bytes.fromhex(h) for h in proof["path"]],
        bytes.fromhex(proof["head"]["rootHash"]),
    )


def test_signed_heads_and_proofs_check_offline(database_url, tmp_path):
    store, key, public = signed_store(database_url, tmp_path)
    head = tradestate("audit", "head", "--json", "--db", store.url, "--public-key", str(public))
    assert head.returncode == 0 and "UNSIGNED" not in head.stderr
    assert json.loads(head.stdout)["signature"]
    for sequence in (1, store.after_first_fill, store.head):
        proof = prove(store.url, sequence)
        assert proof["sequence"] == sequence and proof["treeSize"] == store.head
        assert independently_verified(proof)
        path = tmp_path / f"proof-{sequence}.json"
        path.write_text(json.dumps(proof))
        checked = tradestate("audit", "check-proof", str(path), "--public-key", str(public))
        assert checked.returncode == 0, checked.stderr
        assert f"ok: sequence {sequence} is leaf {sequence - 1}" in checked.stdout
    forged = dict(proof, event=base64.b64encode(b"forged").decode())
    path.write_text(json.dumps(forged))
    refused = tradestate("audit", "check-proof", str(path), "--public-key", str(public))
    assert refused.returncode == 1 and "do not hash to the leaf" in refused.stderr
    other = tmp_path / "other.pem"
    assert tradestate("audit", "keygen", "--out", str(other)).returncode == 0
    path.write_text(json.dumps(proof))
    wrong_key = tradestate("audit", "check-proof", str(path), "--public-key", f"{other}.pub")
    assert wrong_key.returncode == 1 and "head signature" in wrong_key.stderr
    verified = tradestate("audit", "verify", "--db", store.url, "--public-key", str(public))
    assert verified.returncode == 0, verified.stdout + verified.stderr
    assert "head signatures hold" in verified.stdout


def test_a_rewritten_signed_tree_fails_on_its_signatures(database_url, tmp_path):
    from tests.integration import tamper

    store, _key, public = signed_store(database_url, tmp_path)
    tamper.alter(store.url, store.after_first_fill, b'"fill_id":"f1"', b'"fill_id":"fX"')
    tamper.rewrite_tree(store.url)  # the attacker has no key: heads come out unsigned
    result = tradestate("audit", "verify", "--db", store.url, "--public-key", str(public))
    assert result.returncode == 1
    assert "a public key was given, but no stored head is signed" in result.stdout


def test_a_proof_under_a_kept_head(database_url, tmp_path):
    store = populated_store(database_url)
    kept = tradestate("audit", "head", "--json", "--db", store.url)
    (tmp_path / "head.json").write_text(kept.stdout)
    system = build_system(load_settings(database_url=store.url))
    system.projections.start()
    order = system.commands.orders.place_order(
        OrderInput(client_order_id="later", instrument="ACME", side="SELL", quantity=D(1))
    ).order
    system.close()  # the follower appends it and writes a head at stop
    proof = prove(store.url, 2, "--head", str(tmp_path / "head.json"))
    assert proof["treeSize"] == store.head and independently_verified(proof)
    assert json.loads(kept.stdout)["rootHash"] == proof["head"]["rootHash"]
    assert order is not None
    later = tradestate("audit", "head", "--json", "--db", store.url)
    assert json.loads(later.stdout)["treeSize"] > store.head
    consistent = tradestate(
        "audit", "verify", "--db", store.url, "--trusted", str(tmp_path / "head.json")
    )
    assert consistent.returncode == 0, consistent.stdout + consistent.stderr


@pytest.mark.slow
def test_verify_stays_green_while_four_processes_write(database_url):
    store = populated_store(database_url)
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "TRADESTATE_DATABASE_URL": store.url,
        "TRADESTATE_TRANSPARENCY_HEAD_EVERY_SECONDS": "0.3",
        "TRADESTATE_LOG_FORMAT": "json",
    }
    script = str(Path(sys.executable).parent / "tradestate")
    worker = subprocess.Popen([script, "worker"], env=env, stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL)  # fmt: skip
    writers = [
        subprocess.Popen(
            [sys.executable, "-m", "tests.integration.fill_burst", store.url, f"w{i}", "100000"],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )  # fmt: skip
        for i in range(4)
    ]
    try:
        checked = []
        for _ in range(3):
            result = tradestate("audit", "verify", "--db", store.url, timeout=300)
            assert result.returncode == 0, result.stdout + result.stderr
            line = next(x for x in result.stdout.splitlines() if "transparency log" in x)
            checked.append(int(line.split(": ")[1].split()[0]))
            time.sleep(0.5)
        assert any(w.poll() is None for w in writers), "the writers finished before verify did"
        assert checked[-1] > store.head, checked  # it checked events written meanwhile
    finally:
        for process in [*writers, worker]:
            process.terminate()
        for process in [*writers, worker]:
            process.wait(timeout=30)
