"""Two tables' rows compared row by row, streamed in key order (`audit verify`, check 3).

A live read model and its fresh replay hold as many rows as the log made (194 k
orders at 1 M events). Holding both sides in dicts made `audit verify` grow with
the log (1 GB at 1 M events). Here both sides are read ordered by primary key, a
page at a time, and merged like the two halves of a merge sort. Memory is then a
page of each side plus the differences shown.

Both sides must sort the same way. Keys are UUIDs, text and timestamps. UUIDs
and timestamps sort alike on both engines and in Python. Text sorts by its
collation on PostgreSQL, so it is ordered there by "C" (bytes of UTF-8, which is
code point order: SQLite's and Python's). A side whose keys do not rise is an
error, never a false difference.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Column, Connection, String, Table, select

PAGE = 2000
MAX_DIFF_LINES = 20
Row = dict[str, Any]
Key = tuple[Any, ...]


def _in_code_point_order(connection: Connection, column: Column[Any]) -> Any:
    if connection.dialect.name == "postgresql" and isinstance(column.type, String):
        return column.collate("C")
    return column


def ordered_rows(connection: Connection, table: Table) -> Iterator[tuple[Key, Row]]:
    """Every row of `table`, with its primary key, in key order, a page at a time
    (a server-side cursor on PostgreSQL)."""
    keys = list(table.primary_key.columns)
    statement = select(table).order_by(*(_in_code_point_order(connection, k) for k in keys))
    names = [key.name for key in keys]
    previous: Key | None = None
    for found in connection.execution_options(yield_per=PAGE).execute(statement):
        row = dict(found._mapping)
        key = tuple(row[name] for name in names)
        if previous is not None and not previous < key:
            raise RuntimeError(f"{table.name}: rows not in key order ({previous} then {key})")
        previous = key
        yield key, row


def _unequal(
    live: Iterator[tuple[Key, Row]], replayed: Iterator[tuple[Key, Row]]
) -> Iterator[tuple[Key, Row | None, Row | None]]:
    """The keys whose rows differ between two key-ordered streams: (key, live row,
    replayed row), None on the side that lacks the key."""
    ours, theirs = next(live, None), next(replayed, None)
    while ours is not None or theirs is not None:
        if theirs is None or (ours is not None and ours[0] < theirs[0]):
            assert ours is not None
            yield ours[0], ours[1], None
            ours = next(live, None)
        elif ours is None or theirs[0] < ours[0]:
            yield theirs[0], None, theirs[1]
            theirs = next(replayed, None)
        else:
            if ours[1] != theirs[1]:
                yield ours[0], ours[1], theirs[1]
            ours, theirs = next(live, None), next(replayed, None)


def _row_sequence(row: Row) -> int | None:
    return row.get("as_of", row.get("sequence"))


def _line(table: str, key: Key, ours: Row | None, theirs: Row | None) -> str:
    label = f"{table} {'/'.join(str(k) for k in key)}"
    if theirs is None:
        return f"{label}: only in the live read model"
    if ours is None:
        return f"{label}: missing from the live read model"
    changed = [
        f"{column} live={ours.get(column)!s} replay={theirs.get(column)!s}"
        for column in theirs
        if ours.get(column) != theirs.get(column)
    ]
    return f"{label}: {'; '.join(changed)}"


@dataclass
class Differences:
    """What differs in one table: the first lines, how many rows in all, and the
    earliest sequence among them (the live rows' or the replay's)."""

    table: str
    lines: list[str] = field(default_factory=list)
    count: int = 0
    sequence: int | None = None

    def add(self, key: Key, ours: Row | None, theirs: Row | None) -> None:
        self.count += 1
        if len(self.lines) < MAX_DIFF_LINES:
            self.lines.append(_line(self.table, key, ours, theirs))
        for row in (ours, theirs):
            found = _row_sequence(row or {})
            if found and (self.sequence is None or found < self.sequence):
                self.sequence = found

    def shown(self) -> list[str]:
        """The lines to print: at most MAX_DIFF_LINES, then how many more."""
        more = self.count - len(self.lines)
        return self.lines + ([f"{self.table}: ... and {more} more rows"] if more else [])


def differences(
    table: str, live: Iterator[tuple[Key, Row]], replayed: Iterator[tuple[Key, Row]]
) -> Differences:
    """Readable differences between two key-ordered row streams of `table`."""
    found = Differences(table)
    for key, ours, theirs in _unequal(live, replayed):
        found.add(key, ours, theirs)
    return found
