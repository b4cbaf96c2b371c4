"""The integrity pass in batches: what lets `audit verify` check ~1 M events in seconds.

Leaves are read 2^LEVEL at a time (aligned on leaf indexes), with the events of the
same sequence window, through the driver's cursor (no SQLAlchemy rows, no
eventsourcing objects). A batch passes when its events' sequences equal its
leaves' and every event's leaf hash, computed in one comprehension, equals the
stored one (one list comparison: the hashed bytes hold the event's sequence, so
equal hashes in order mean equal sequences). Its perfect subtrees are then hashed level by
level: the root at any head's size inside the batch is the frontier before it plus
O(log n) of them, and the batch's root joins the frontier, so memory is one batch
plus log2 n hashes whatever the log's size (RFC 9162 2.1.1; merkle.range_nodes).

Anything else in a batch (a difference, a missing leaf row, a row that cannot be
hashed) hands the pass, from the batch's first leaf, to the row-by-row check
(`Integrity.feed`), which names the first altered, deleted or inserted sequence
exactly as it always has. A batch can only pass when every event hashes to the
bytes the tree witnessed, so the batches never accept what the rows would refuse.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from sqlalchemy import Engine

from infrastructure.database import DatabaseUrl
from infrastructure.eventstore import events_table
from infrastructure.transparency import merkle
from infrastructure.transparency.tree import last_sequence

if TYPE_CHECKING:
    from infrastructure.transparency.verify import Integrity

LEVEL = 13  # 8,192 leaves a batch: +10 MB peak at 1 M events, faster than 65,536 (cache)
_sha256 = hashlib.sha256


def _statements(url: DatabaseUrl) -> tuple[str, str]:
    """(leaves of an index range, events of a sequence window) for the driver."""
    if url.is_sqlite:
        key, originator, mark = "rowid", "originator_id", "?"
    else:  # a UUID column: its text without dashes is UUID.hex, as the leaf holds it
        key, originator, mark = "notification_id", "replace(originator_id::text, '-', '')", "%s"
    leaves = (
        f"SELECT hash FROM tl_leaves WHERE leaf_index >= {mark} "
        f"AND leaf_index < {mark} ORDER BY leaf_index"
    )
    events = (
        f"SELECT {key}, {originator}, originator_version, topic, state "
        f"FROM {events_table(url)} WHERE {key} > {mark} AND {key} <= {mark} "
        f"ORDER BY {key} LIMIT {mark}"
    )
    return leaves, events


def leaf_hashes(rows: Sequence[Any]) -> list[bytes]:
    """tree.row_leaf of each (sequence, originator hex, version, topic, state) row;
    formatted by the same f-string as there (str of each value)."""
    return [
        _sha256(f"\x00{s}\n{o}\n{v}\n{t}\n".encode() + state).digest() for s, o, v, t, state in rows
    ]


def subtree_levels(hashes: list[bytes]) -> list[list[bytes]]:
    """Level 0 is the leaves; level j the perfect subtrees of 2^j of them."""
    levels = [hashes]
    while len(levels[-1]) > 1:
        below = levels[-1]
        levels.append(
            [
                _sha256(b"\x01" + a + b).digest()
                for a, b in zip(below[::2], below[1::2], strict=False)
            ]
        )
    return levels


def root_inside(
    frontier: merkle.Frontier, levels: list[list[bytes]], start: int, end: int
) -> bytes:
    """The root of the first `end` leaves: the frontier of `start` leaves, then the
    batch's perfect subtrees covering [start, end)."""
    inside = [levels[lv][i - (start >> lv)] for lv, i in merkle.range_nodes(start, end)]
    return merkle.fold(frontier.hashes + inside)


def push_subtree(frontier: merkle.Frontier, level: int, digest: bytes) -> None:
    """Append a perfect subtree of 2^level leaves at an aligned size."""
    index = frontier.size >> level
    while index & 1:
        digest = merkle.node_hash(frontier.hashes.pop(), digest)
        index >>= 1
    frontier.hashes.append(digest)
    frontier.size += 1 << level


def check_in_batches(
    integrity: Integrity,
    engine: Engine,
    url: DatabaseUrl,
    progress: Callable[[str, int, int], None] | None = None,
    level: int | None = None,
) -> tuple[int, int] | None:
    """Check batches until the head's size (None) or one that does not simply match:
    then (its first leaf index, the sequence before it) for `Integrity.resume`."""
    size, batch = integrity.head.tree_size, 1 << (LEVEL if level is None else level)
    frontier = integrity.frontier
    wanted = sorted(integrity.roots_wanted)
    leaves_sql, events_sql = _statements(url)
    leaf_cursor = integrity.connection.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
    with engine.connect() as events_connection:
        event_cursor = events_connection.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
        try:
            after = 0
            while frontier.size < size and integrity.failure is None:
                start = frontier.size
                end = min(start + batch, size)
                leaf_cursor.execute(leaves_sql, (start, end))
                leaves = leaf_cursor.fetchall()
                if len(leaves) != end - start:
                    return start, after
                stored = [row[0] for row in leaves]
                last = last_sequence(integrity.connection, end)
                event_cursor.execute(events_sql, (after, last, end - start + 1))
                try:  # the sequence is in the hashed bytes: equal hashes, equal sequences
                    matches = leaf_hashes(event_cursor.fetchall()) == stored
                except Exception:  # e.g. state rewritten as text: the rows say why
                    matches = False
                if not matches:
                    return start, after
                levels = subtree_levels(stored)
                for n in [n for n in wanted if start < n <= end]:
                    root = root_inside(frontier, levels, start, n)
                    if any(expected != root for _, expected in integrity.roots_wanted[n]):
                        sequence = last_sequence(integrity.connection, n)
                        integrity.check_root(n, sequence, _given(root))
                    if integrity.failure is not None:  # as the rows would: checked up to n
                        integrity.checked += n - start
                        return None
                for lv, index in merkle.range_nodes(start, end):
                    push_subtree(frontier, lv, levels[lv][index - (start >> lv)])
                integrity.checked += end - start
                after = last
                if progress is not None:
                    progress("transparency log", after, integrity.end_sequence)
        finally:
            event_cursor.close()
            leaf_cursor.close()
    return None


def _given(root: bytes) -> Callable[[], bytes]:
    """`root`, for Integrity.check_root (which takes how to compute it)."""
    return lambda: root
