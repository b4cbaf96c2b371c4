"""The Merkle tree as stored: leaves, perfect-subtree nodes and heads (tables.py).

Reads cost O(log n) rows: a root or proof names the perfect subtrees it needs
(merkle.py) and fetches them in one statement.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from eventsourcing.persistence import Notification
from sqlalchemy import Connection, and_, func, or_, select

from infrastructure.transparency import merkle
from infrastructure.transparency.tables import heads, leaves, meta, nodes

WITNESSED_FROM = "witnessed_from"


def row_bytes(row: tuple[int, UUID | str, int, str, bytes]) -> bytes:
    """A stored event as its leaf holds it: sequence, originator id (UUID hex),
    version and topic, one per line, then the state bytes as stored."""
    sequence, originator, version, topic, state = row
    originator_hex = originator.hex if isinstance(originator, UUID) else str(originator)
    return f"{sequence}\n{originator_hex}\n{version}\n{topic}\n".encode() + bytes(state)


def row_leaf(row: tuple[int, UUID | str, int, str, bytes]) -> bytes:
    return merkle.leaf_hash(row_bytes(row))


def canonical_bytes(notification: Notification) -> bytes:
    n = notification
    return row_bytes((n.id, n.originator_id, n.originator_version, n.topic, n.state))


def event_leaf(notification: Notification) -> bytes:
    return merkle.leaf_hash(canonical_bytes(notification))


@dataclass(frozen=True)
class StoredHead:
    tree_size: int
    root: bytes
    timestamp_ms: int
    signature: bytes | None
    key_id: str | None


def fetch_nodes(connection: Connection, wanted: Iterable[merkle.Node]) -> dict[merkle.Node, bytes]:
    """The stored hashes of these perfect subtrees (level 0: the leaves)."""
    wanted = set(wanted)
    found: dict[merkle.Node, bytes] = {}
    at_leaves = [index for level, index in wanted if level == 0]
    higher = [(level, index) for level, index in wanted if level > 0]
    if at_leaves:
        rows = connection.execute(
            select(leaves.c.leaf_index, leaves.c.hash).where(leaves.c.leaf_index.in_(at_leaves))
        )
        found.update({(0, index): bytes(digest) for index, digest in rows})
    if higher:
        by_level: dict[int, list[int]] = {}
        for level, index in higher:
            by_level.setdefault(level, []).append(index)
        # One condition per level: SQLite scans the table for a row-value IN.
        wanted_here = or_(
            *(
                and_(nodes.c.level == level, nodes.c.node_index.in_(indexes))
                for level, indexes in by_level.items()
            )
        )
        rows = connection.execute(
            select(nodes.c.level, nodes.c.node_index, nodes.c.hash).where(wanted_here)
        )
        found.update({(level, index): bytes(digest) for level, index, digest in rows})
    missing = wanted - found.keys()
    if missing:
        raise LookupError(f"the tree lacks nodes {sorted(missing)[:5]}")
    return found


def tree_size(connection: Connection) -> int:
    last = connection.execute(select(func.max(leaves.c.leaf_index))).scalar()
    return 0 if last is None else int(last) + 1


def last_sequence(connection: Connection, size: int) -> int:
    """The sequence of the tree's last leaf of a tree of `size` leaves (0 if empty)."""
    if size == 0:
        return 0
    statement = select(leaves.c.sequence).where(leaves.c.leaf_index == size - 1)
    return int(connection.execute(statement).scalar_one())


def root_at(connection: Connection, size: int) -> bytes:
    if size == 0:
        return merkle.EMPTY_ROOT
    wanted = merkle.range_nodes(0, size)
    found = fetch_nodes(connection, wanted)
    return merkle.fold([found[node] for node in wanted])


def leaf_at(connection: Connection, sequence: int) -> tuple[int, bytes] | None:
    """(leaf index, leaf hash) of an event's sequence, if the tree holds it."""
    row = connection.execute(
        select(leaves.c.leaf_index, leaves.c.hash).where(leaves.c.sequence == sequence)
    ).first()
    return None if row is None else (int(row[0]), bytes(row[1]))


def inclusion_path(connection: Connection, index: int, size: int) -> list[bytes]:
    ranges = merkle.inclusion_ranges(index, size)
    return merkle.assemble(ranges, fetch_nodes(connection, merkle.nodes_of(ranges)))


def consistency_path(connection: Connection, old_size: int, new_size: int) -> list[bytes]:
    ranges = merkle.consistency_ranges(old_size, new_size)
    return merkle.assemble(ranges, fetch_nodes(connection, merkle.nodes_of(ranges)))


def _head(row: Sequence[Any]) -> StoredHead:
    size, root, timestamp, signature, key_id = row
    return StoredHead(
        int(size), bytes(root), int(timestamp), None if signature is None else bytes(signature),
        key_id,
    )  # fmt: skip


def latest_head(connection: Connection) -> StoredHead | None:
    row = connection.execute(select(heads).order_by(heads.c.tree_size.desc()).limit(1)).first()
    return None if row is None else _head(row)


def head_covering(connection: Connection, size: int) -> StoredHead | None:
    """The smallest stored head of at least `size` leaves."""
    row = connection.execute(
        select(heads).where(heads.c.tree_size >= size).order_by(heads.c.tree_size).limit(1)
    ).first()
    return None if row is None else _head(row)


def stored_heads(connection: Connection, upto: int) -> list[StoredHead]:
    rows = connection.execute(
        select(heads).where(heads.c.tree_size <= upto).order_by(heads.c.tree_size)
    )
    return [_head(row) for row in rows]


def leaf_pages(
    connection: Connection, size: int, page: int = 20_000, start: int = 0
) -> Iterator[list[tuple[int, int, bytes]]]:
    """(leaf index, sequence, hash) of leaves start..size-1, a page at a time."""
    while start < size:
        rows = connection.execute(
            select(leaves.c.leaf_index, leaves.c.sequence, leaves.c.hash)
            .where(leaves.c.leaf_index >= start, leaves.c.leaf_index < min(start + page, size))
            .order_by(leaves.c.leaf_index)
        ).all()
        if not rows:
            return
        yield [(int(i), int(s), bytes(h)) for i, s, h in rows]
        start = int(rows[-1][0]) + 1


def witnessed_from(connection: Connection) -> int | None:
    value = connection.execute(select(meta.c.value).where(meta.c.key == WITNESSED_FROM)).scalar()
    return None if value is None else int(value)
