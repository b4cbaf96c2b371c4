"""Check 3 of `audit verify` merges a live table with its replay in key order: both
engines must hand rows over in the order Python compares keys, whatever the
database's collation; and the merge names each kind of difference."""

from __future__ import annotations

import pytest
from sqlalchemy import Column, Integer, MetaData, Table, Text, insert

from infrastructure.database import DatabaseUrl, make_engine
from infrastructure.rowdiff import MAX_DIFF_LINES, differences, ordered_rows

# Keys a language collation (ICU English) sorts otherwise than code points do.
TRICKY = ["b", "B", "a b", "a-b", "a_b", "ab", "Z", "ä", "a"]


def keyed_table(url: str) -> Table:
    collation = "en-x-icu" if DatabaseUrl(url).is_postgres else None
    return Table(
        "rowdiff_keys",
        MetaData(),
        Column("name", Text(collation=collation), primary_key=True),
        Column("n", Integer),
    )


def test_text_keys_stream_in_code_point_order_on_either_engine(database_url):
    engine = make_engine(DatabaseUrl(database_url))
    table = keyed_table(database_url)
    try:
        with engine.begin() as connection:
            table.create(connection)
            connection.execute(insert(table), [{"name": k, "n": i} for i, k in enumerate(TRICKY)])
        with engine.connect() as connection:
            keys = [key for key, _ in ordered_rows(connection, table)]
    finally:
        engine.dispose()
    assert keys == [(k,) for k in sorted(TRICKY)]


def stream(*rows: tuple[str, int]):
    return (((key,), {"id": key, "quantity": q, "as_of": q}) for key, q in rows)


def test_the_merge_names_rows_only_live_missing_and_changed():
    found = differences(
        "positions",
        stream(("a", 1), ("b", 3), ("d", 4)),
        stream(("b", 10), ("c", 2), ("d", 4)),
    )
    assert found.shown() == [
        "positions a: only in the live read model",
        "positions b: quantity live=3 replay=10; as_of live=3 replay=10",
        "positions c: missing from the live read model",
    ]
    assert found.sequence == 1


def test_the_merge_shows_the_first_differences_and_counts_the_rest():
    live = stream(*((f"k{i:03d}", 1) for i in range(MAX_DIFF_LINES + 5)))
    found = differences("orders", live, stream())
    assert len(found.shown()) == MAX_DIFF_LINES + 1
    assert found.shown()[-1] == "orders: ... and 5 more rows"


def test_rows_out_of_key_order_are_an_error_not_a_difference():
    """A column SQLite sorts without regard to case hands "a" before "B", where
    Python puts "B" first: the merge would report both as missing, so it refuses."""
    engine = make_engine(DatabaseUrl("sqlite://"))
    table = Table("t", MetaData(), Column("id", Text(collation="NOCASE"), primary_key=True))
    try:
        with engine.begin() as connection:
            table.create(connection)
            connection.execute(insert(table), [{"id": "B"}, {"id": "a"}])
            with pytest.raises(RuntimeError, match="not in key order"):
                list(ordered_rows(connection, table))
    finally:
        engine.dispose()
