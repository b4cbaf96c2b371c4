"""The integrity pass in batches (infrastructure/transparency/batches.py) on real
SQLite and PostgreSQL: with batches of two leaves, so a store holds many, its
verdict on every kind of tampering is the row-by-row check's, word for word; and
its roots, built level by level beside a frontier, are RFC 9162's at every size."""

from __future__ import annotations

import hashlib

import pytest

from infrastructure.database import DatabaseUrl, make_engine
from infrastructure.transparency import batches, merkle
from infrastructure.transparency.logread import stored_pages
from infrastructure.transparency.verify import Integrity, fixed_head, run_integrity
from tests import rfc9162
from tests.integration import tamper
from tests.integration.test_cli_replay import populated_store


@pytest.mark.parametrize("batch_level", [0, 1, 2, 3])
def test_batched_roots_are_rfc9162_roots_at_every_size(batch_level):
    leaves = [rfc9162.leaf_hash(b"%d" % i) for i in range(45)]
    batch, frontier, roots = 1 << batch_level, merkle.Frontier(), {}
    for start in range(0, len(leaves), batch):
        end = min(start + batch, len(leaves))
        levels = batches.subtree_levels(leaves[start:end])
        for n in range(start + 1, end + 1):
            roots[n] = batches.root_inside(frontier, levels, start, n)
        for level, index in merkle.range_nodes(start, end):
            batches.push_subtree(frontier, level, levels[level][index - (start >> level)])
    assert roots == {n: rfc9162.mth_of_leaf_hashes(leaves[:n]) for n in range(1, 46)}
    assert frontier.size == 45 and len(frontier.hashes) == bin(45).count("1")


def test_leaf_hashes_are_the_trees_leaf_hashes():
    from infrastructure.transparency.tree import row_leaf

    rows = [(7, "ab" * 16, 3, "domain.x:Y.Z", b'{"a":"\xc3\xa9"}'), (8, "cd" * 16, 1, "t:é", b"")]
    assert batches.leaf_hashes(rows) == [row_leaf(row) for row in rows]
    assert (
        batches.leaf_hashes(rows)[1]
        == hashlib.sha256(b"\x008\n" + b"cd" * 16 + b"\n1\nt:\xc3\xa9\n").digest()
    )


def _row_by_row(connection, engine, url, trusted):
    integrity = Integrity(connection, fixed_head(connection), trusted)
    integrity.resume(0)
    for page in stored_pages(engine, url, 0, integrity.end_sequence):
        integrity.feed(page)
        if integrity.failure is not None:
            break
    integrity.finish()
    return integrity


@pytest.mark.parametrize("attack", ["none", "alter", "delete", "insert", "reorder", "truncate",
                                    "rewrite"])  # fmt: skip
def test_batches_report_what_the_rows_report(database_url, attack, monkeypatch):
    store = populated_store(database_url)
    url = DatabaseUrl(store.url)
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            trusted = [fixed_head(connection)] if attack == "rewrite" else []
        target = store.head - 3  # in a late batch of two leaves
        if attack in ("alter", "rewrite"):
            tamper.alter(store.url, store.after_first_fill, b'"fill_id":"f1"', b'"fill_id":"fX"')
            target = store.after_first_fill
        elif attack == "delete":
            tamper.delete(store.url, target)
        elif attack == "insert":
            tamper.insert(store.url, target)
        elif attack == "reorder":
            tamper.reorder(store.url, target, target + 1)
        elif attack == "truncate":
            tamper.delete(store.url, target, target + 1, target + 2, target + 3)
        if attack == "rewrite":
            tamper.rewrite_tree(store.url)
        monkeypatch.setattr(batches, "LEVEL", 1)
        with engine.connect() as connection:
            rows = _row_by_row(connection, engine, url, trusted)
        with engine.connect() as connection:
            batched = run_integrity(
                Integrity(connection, fixed_head(connection), trusted), engine, url
            )
            handed_over = batches.check_in_batches(
                Integrity(connection, fixed_head(connection), trusted), engine, url
            )
    finally:
        engine.dispose()
    assert (batched.failure, batched.checked, batched.notes) == (
        rows.failure,
        rows.checked,
        rows.notes,
    )
    if attack == "none":
        assert batched.failure is None and batched.checked == store.head
        assert handed_over is None  # no row was checked one by one
    elif attack == "rewrite":
        assert batched.failure is not None and batched.failure.sequence is None
        assert "trusted head" in batched.failure.why
        assert handed_over is None  # the events match the rewritten tree: only a root differs
    else:
        assert batched.failure is not None and batched.failure.sequence == target
        assert handed_over is not None and handed_over[0] <= target - 1 < handed_over[0] + 2
