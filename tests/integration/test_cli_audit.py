"""`tradestate audit` via the real script, on SQLite and PostgreSQL: a clean store
passes; alter, delete, insert, reorder and truncate are each named by sequence;
events and tree rewritten together are caught by a head the auditor kept; a
rebuild refuses to launder tampering; decodability and read models still count; a
checkpoint edited by hand is reported (and skipped by time travel)."""

from __future__ import annotations

import json
import zlib
from pathlib import Path

import pytest
from sqlalchemy import update

from infrastructure.database import DatabaseUrl, make_engine
from infrastructure.readmodels.tables import projection_tables
from infrastructure.replay import remake_checkpoints
from infrastructure.settings import load_settings
from interfaces.cli.render import graphql_json
from interfaces.composition import build_system
from tests.integration import checkpoint_edits, tamper
from tests.integration.test_cli_replay import populated_store, tradestate


def verify(url: str, *args: str):
    return tradestate("audit", "verify", "--db", url, *args)


def keep_head(url: str, directory: Path) -> Path:
    result = tradestate("audit", "head", "--json", "--db", url)
    assert result.returncode == 0, result.stderr
    path = directory / "head.json"
    path.write_text(result.stdout)
    return path


def test_a_clean_store_passes_every_check(database_url):
    store = populated_store(database_url)
    result = verify(store.url)
    assert result.returncode == 0, result.stdout + result.stderr
    assert (
        f"[ok  ] transparency log: {store.head} events match their leaves under the head "
        f"of {store.head} leaves" in result.stdout
    )
    assert "tree heads are UNSIGNED" in result.stdout
    assert "[ok  ] decodability" in result.stdout and "[ok  ] read models" in result.stdout


@pytest.mark.parametrize("attack", ["alter", "delete", "insert", "reorder", "truncate"])
def test_tampering_with_events_is_named_by_its_first_sequence(database_url, attack):
    store = populated_store(database_url)
    target = store.after_first_fill - 1  # the position's FillApplied of the first fill
    expected = {
        "alter": "its stored event differs from the one the tree witnessed",
        "delete": "it is in the tree but missing from the log",
        "insert": "its stored event differs from the one the tree witnessed",
        "reorder": "its stored event differs from the one the tree witnessed",
        "truncate": "it is in the tree but missing from the log",
    }[attack]
    if attack == "alter":
        tamper.alter(store.url, target, b'"fill_id":"f1"', b'"fill_id":"fX"')
    elif attack == "delete":
        tamper.delete(store.url, target)
    elif attack == "insert":
        tamper.insert(store.url, target)
    elif attack == "reorder":
        tamper.reorder(store.url, target, target + 1)
    else:
        target = store.head - 2
        tamper.delete(store.url, store.head - 2, store.head - 1, store.head)
    result = verify(store.url)
    assert result.returncode == 1, result.stdout + result.stderr
    assert f"[FAIL] transparency log: sequence {target}: {expected}" in result.stdout
    assert f"first failing sequence {target}" in result.stderr


def test_events_and_tree_rewritten_together_are_caught_by_an_earlier_head(database_url, tmp_path):
    store = populated_store(database_url)
    kept = keep_head(store.url, tmp_path)
    tamper.alter(store.url, store.after_first_fill, b'"fill_id":"f1"', b'"fill_id":"fX"')
    tamper.rewrite_tree(store.url)
    alone = verify(store.url)
    assert "[ok  ] transparency log" in alone.stdout, alone.stdout  # unsigned: no way to tell
    result = verify(store.url, "--trusted", str(kept))
    assert result.returncode == 1, result.stdout + result.stderr
    assert (
        f"[FAIL] transparency log: the trusted head of {store.head} leaves does not match "
        f"the tree's leaves: history at or before sequence {store.head} was rewritten"
    ) in result.stdout


def test_a_rebuild_refuses_to_launder_tampering(database_url):
    store = populated_store(database_url)
    altered = store.after_first_fill - 1
    tamper.alter(store.url, altered, b'"fill_id":"f1"', b'"fill_id":"fX"')
    rebuild = tradestate("replay", "--rebuild", "--db", store.url)
    assert rebuild.returncode != 0
    assert "refusing to rebuild" in rebuild.stderr and f"sequence {altered}" in rebuild.stderr
    result = verify(store.url)
    assert result.returncode == 1
    assert f"first failing sequence {altered}" in result.stderr


def test_an_undecodable_event_fails_decodability(database_url):
    store = populated_store(database_url)
    tamper.alter(store.url, 1, b'"client_order_id"', b'"client_order_key"')
    result = verify(store.url)
    assert result.returncode == 1
    assert "[FAIL] decodability: sequence 1 does not decode" in result.stdout
    assert "client_order_key" in result.stdout
    assert "first failing sequence 1" in result.stderr


def test_a_read_model_row_changed_by_hand_is_shown_as_a_diff(database_url):
    store = populated_store(database_url)
    engine = make_engine(DatabaseUrl(store.url))
    positions = projection_tables("a").positions
    try:
        with engine.begin() as connection:
            connection.execute(update(positions).values(quantity=3))
    finally:
        engine.dispose()
    result = verify(store.url)
    assert result.returncode == 1
    assert "[ok  ] transparency log" in result.stdout
    assert "[FAIL] read models" in result.stdout
    assert f"positions {store.position_id}: quantity live=3 replay=10" in result.stdout


def test_a_kept_head_is_json_with_size_root_and_time(database_url, tmp_path):
    store = populated_store(database_url)
    head = json.loads(keep_head(store.url, tmp_path).read_text())
    assert head["treeSize"] == store.head and len(bytes.fromhex(head["rootHash"])) == 32
    assert head["signature"] is None and head["timestampMs"] > 0


def checkpointed(url: str, every: int = 3) -> int:
    """Checkpoints every `every` events (the real K is 50 000); the sequence of the
    second one, the one the tests below edit."""
    system = build_system(load_settings(database_url=url), migrate=False)
    try:
        recorder, mapper = system.app.recorder, system.app.mapper
        made = remake_checkpoints(system.engine, recorder, mapper, graphql_json, every=every)
    finally:
        system.close()
    assert made >= 3
    return 2 * every


def edit_checkpoint(url: str, sequence: int, *, keep_digest: bool) -> None:
    """Change a position's quantity in the checkpoint's rows (by hand, in the database
    file); with `keep_digest`, also recompute the digest as a careful forger would."""
    engine = make_engine(DatabaseUrl(url))
    try:
        stored = checkpoint_edits.stored(engine, sequence)
        edited = []
        for data in stored:
            text = zlib.decompress(data)
            if b'"table":"rm_positions"' in text:
                text = text.replace(b'"10"', b'"7"').replace(b'"4"', b'"7"')
            edited.append(zlib.compress(text))
        assert edited != stored
        with engine.begin() as connection:
            for number, (old, new) in enumerate(zip(stored, edited, strict=True), start=1):
                if new != old:
                    checkpoint_edits.repoint(connection, sequence, number, new)
        if keep_digest:
            checkpoint_edits.redigest(engine, sequence)
    finally:
        engine.dispose()


@pytest.mark.parametrize("keep_digest", [False, True])
def test_a_checkpoint_edited_by_hand_is_reported_and_ignored_by_time_travel(
    database_url, keep_digest
):
    store = populated_store(database_url)
    edited = checkpointed(store.url)
    before = tradestate("replay", "--until-sequence", str(edited + 1), "--format", "json",
                        "--db", store.url)  # fmt: skip
    assert before.returncode == 0, before.stderr
    clean = verify(store.url)
    assert clean.returncode == 0, clean.stdout + clean.stderr
    assert "[ok  ] checkpoints:" in clean.stdout
    edit_checkpoint(store.url, edited, keep_digest=keep_digest)
    result = verify(store.url)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "[ok  ] read models" in result.stdout
    assert "[FAIL] checkpoints" in result.stdout
    why = "disagrees with a replay of its range" if keep_digest else "does not match its digest"
    assert f"checkpoint {edited}: {why}" in result.stdout
    assert f"first failing sequence {edited}" in result.stderr
    if not keep_digest:  # time travel checks the digest and falls back to an earlier one
        after = tradestate("replay", "--until-sequence", str(edited + 1), "--format", "json",
                           "--db", store.url)  # fmt: skip
        assert after.returncode == 0, after.stderr
        assert f"checkpoint {edited} does not match its digest; ignored" in after.stderr
        assert after.stdout == before.stdout


def test_live_rows_are_read_in_one_snapshot_while_a_runner_commits(database_url):
    """`audit verify` reads a projection's tracking, then streams its rows while the
    replay is compared with them. A batch another connection commits meanwhile must
    not show: before, on SQLite each SELECT saw the file as it then stood, and four
    busy writers kept a projection moving through every retry ("projection orders
    keeps moving")."""
    from infrastructure import readmodel_check as check
    from infrastructure.projections.tracking import active_slot, advance, read_tracking
    from infrastructure.rowdiff import ordered_rows

    store = populated_store(database_url)
    engine = make_engine(DatabaseUrl(store.url))
    positions = projection_tables("a").positions
    try:
        with check._live_snapshot(engine, "positions") as (live, tracking):
            with engine.begin() as other:  # a runner commits a batch after tracking was read
                slot = active_slot(other, "positions")
                position = read_tracking(other, "positions", slot).position
                other.execute(update(positions).values(quantity=7))
                advance(other, "positions", slot, position, position + 1)
            quantities = {row["quantity"] for _, row in ordered_rows(live, positions)}
            again = check._tracking(live, "positions").position
    finally:
        engine.dispose()
    assert tracking.position == position == again
    assert quantities == {10}
