"""Skimming a checkpoint's parts gives what decoding them whole gives, whatever the
text values hold (brackets, commas, quotes, escapes): a restore keeps exactly the
touched rows, and a lines part's ids and last key are its keys' ids and last key."""

from __future__ import annotations

from typing import Any

import orjson
from hypothesis import given
from hypothesis import strategies as st

from infrastructure.checkpoint_skim import LinesKeys
from infrastructure.checkpoints import _rows_part

IDS = st.uuids().map(lambda found: found.hex)
TRICKY = st.sampled_from(['],["', '\\"', '"],["', "[", "]", ",", '"', "\n", "é", ""])
TEXT = st.lists(st.one_of(TRICKY, st.text(max_size=5)), max_size=4).map("".join)
VALUES = st.one_of(
    st.none(),
    st.integers(-(2**63), 2**63 - 1),
    TEXT,
    st.floats(allow_nan=False, allow_infinity=False),
)


def rows_part(table: str, columns: list[str], rows: list[list[Any]]) -> bytes:
    """A rows part as `capture` writes it (before compression)."""
    return orjson.dumps({"table": table, "columns": columns, "rows": rows})


def raw(*ids: str) -> frozenset[bytes]:
    """Raw ids as `restore` hands them on."""
    return frozenset(found.encode() for found in ids)


@given(
    rows=st.lists(st.tuples(IDS, VALUES, VALUES).map(list), max_size=30),
    others=st.lists(IDS, max_size=3),
    picks=st.lists(st.integers(min_value=0), max_size=10),
)
def test_keeping_the_touched_rows_equals_decoding_all_then_filtering(rows, others, picks):
    touched = set(others) | {rows[pick % len(rows)][0] for pick in picks if rows}
    columns = ["id", "note", "size"]
    text = rows_part("rm_orders", columns, rows)
    decoded = orjson.loads(text)["rows"]
    kept = [row for row in decoded if row[0] in touched]
    assert _rows_part(text, raw(*touched)) == ("rm_orders", columns, kept)
    assert _rows_part(text, None) == ("rm_orders", columns, decoded)


def test_a_table_whose_id_is_not_first_is_decoded_whole_then_filtered():
    rows = [["a],[", "0" * 32], ["b", "1" * 32]]
    text = rows_part("rm_positions", ["account", "id"], rows)
    assert _rows_part(text, raw("1" * 32)) == ("rm_positions", ["account", "id"], [rows[1]])


def test_an_id_that_only_starts_with_a_touched_one_is_not_kept():
    rows = [["1" * 32 + "0", "longer"], ["1" * 32, "same"], ["1" * 31, "shorter"]]
    text = rows_part("rm_orders", ["id", "note"], rows)
    assert _rows_part(text, raw("1" * 32)) == ("rm_orders", ["id", "note"], [rows[1]])


def test_a_table_that_is_not_listed_keeps_every_row():
    rows = [["x", 1], ["y", 2]]
    text = rows_part("rm_account_positions", ["id", "n"], rows)
    assert _rows_part(text, raw()) == ("rm_account_positions", ["id", "n"], rows)


@given(keys=st.lists(st.tuples(VALUES, VALUES, IDS).map(list), max_size=20))
def test_a_lines_parts_ids_and_last_key_are_read_as_decoding_its_keys_gives(keys):
    head = orjson.dumps({"lines": "orders", "keys": keys})
    skimmed = LinesKeys(head, rows=max(len(keys), 1))
    assert list(skimmed) == keys
    assert len(skimmed) == len(keys)
    if keys:
        assert skimmed.ids() == [key[-1].encode() for key in keys]
        assert skimmed.last() == keys[-1]
