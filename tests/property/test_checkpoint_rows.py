"""A restore that keeps only the touched rows of a checkpoint's rows part keeps exactly
the rows decoding the whole part and filtering would keep, whatever the text values
hold (brackets, commas, quotes, escapes), and decodes them to the same values."""

from __future__ import annotations

from typing import Any

import orjson
from hypothesis import given
from hypothesis import strategies as st

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
