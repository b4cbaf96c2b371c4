"""Appending stored events to the tree: leaves, the nodes they complete and,
every N events or T seconds, a (signed) tree head — one transaction per page.

Leaf index and sequence are unique in `tl_leaves`: should two appenders ever
run at once (two SQLite processes), the second one's insert fails, it reloads
the tree and goes on from the other's work.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence

from eventsourcing.persistence import ApplicationRecorder
from sqlalchemy import Connection, Engine, insert

from infrastructure.database import DatabaseUrl
from infrastructure.transparency import merkle
from infrastructure.transparency.heads import HeadSigner, TreeHead
from infrastructure.transparency.logread import StoredRow, stored_pages
from infrastructure.transparency.tables import heads
from infrastructure.transparency.tree import (
    fetch_nodes,
    last_sequence,
    latest_head,
    row_leaf,
    tree_size,
)

Progress = Callable[[str, int, int], None]
MAX = 2**62


class TreeAppender:
    def __init__(
        self,
        engine: Engine,
        recorder: ApplicationRecorder,
        url: DatabaseUrl,
        *,
        signer: HeadSigner | None = None,
        head_every_events: int = 1000,
        head_every_seconds: float = 10.0,
        page: int = 1000,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.engine = engine
        self.recorder = recorder
        self.url = url
        self.signer = signer
        self.head_every_events = head_every_events
        self.head_every_seconds = head_every_seconds
        self.page = page
        self.clock = clock
        self.frontier: merkle.Frontier | None = None
        self.sequence = 0  # of the last leaf
        self.head_size = 0
        self.head_time = 0.0

    def forget(self) -> None:
        """Read the tree's state from the database before the next append."""
        self.frontier = None

    def _load(self, connection: Connection) -> merkle.Frontier:
        size = tree_size(connection)
        frontier = merkle.Frontier.load(size, lambda wanted: fetch_nodes(connection, wanted))
        self.sequence = last_sequence(connection, size)
        head = latest_head(connection)
        self.head_size = head.tree_size if head else 0
        self.head_time = head.timestamp_ms / 1000 if head else self.clock()
        return frontier

    def append_once(self) -> int:
        """Append one page of new events (and a head when due); how many were appended."""
        try:
            with self.engine.begin() as connection:
                frontier = self.frontier or self._load(connection)
                new = next(stored_pages(self.engine, self.url, self.sequence, MAX, self.page), [])
                appended = self._insert(connection, frontier, new)
                head = self._head_due(frontier)
                if head is not None:
                    connection.execute(insert(heads).values(**_head_row(head)))
        except Exception:
            self.forget()
            raise
        self.frontier = frontier
        if new:
            self.sequence = int(new[-1][0])
        if head is not None:
            self.head_size, self.head_time = head.tree_size, head.timestamp_ms / 1000
        return appended

    def _insert(
        self, connection: Connection, frontier: merkle.Frontier, new: Sequence[StoredRow]
    ) -> int:
        if not new:
            return 0
        leaf_rows, node_rows = [], []
        for row in new:
            digest = row_leaf(row)
            leaf_rows.append((frontier.size, row[0], digest))
            node_rows += frontier.append(digest)
        # The driver's executemany: SQLAlchemy's per-value bind processing of the
        # binary hashes cost more than all the hashing.
        mark = "?" if connection.dialect.paramstyle == "qmark" else "%s"
        connection.exec_driver_sql(
            f"INSERT INTO tl_leaves (leaf_index, sequence, hash) VALUES ({mark}, {mark}, {mark})",
            leaf_rows,
        )
        if node_rows:
            connection.exec_driver_sql(
                f"INSERT INTO tl_nodes (level, node_index, hash) VALUES ({mark}, {mark}, {mark})",
                node_rows,
            )
        return len(new)

    def _head_due(self, frontier: merkle.Frontier, force: bool = False) -> TreeHead | None:
        if frontier.size <= self.head_size:
            return None
        now = self.clock()
        due = (
            force
            or frontier.size - self.head_size >= self.head_every_events
            or now - self.head_time >= self.head_every_seconds
        )
        if not due:
            return None
        head = TreeHead(frontier.size, frontier.root(), int(now * 1000))
        return self.signer.sign(head) if self.signer else head

    def write_head(self) -> TreeHead | None:
        """A head over the whole tree now, unless the latest head already is."""
        with self.engine.begin() as connection:
            frontier = self.frontier or self._load(connection)
            head = self._head_due(frontier, force=True)
            if head is not None:
                connection.execute(insert(heads).values(**_head_row(head)))
        self.frontier = frontier
        if head is not None:
            self.head_size, self.head_time = head.tree_size, head.timestamp_ms / 1000
        return head

    def catch_up(self, progress: Progress | None = None) -> int:
        """Append everything the log holds now; how many events were appended."""
        total = 0
        head = self.recorder.max_notification_id() or 0
        while appended := self.append_once():
            total += appended
            if progress is not None:
                progress("transparency log", min(self.sequence, head), head)
        return total


def _head_row(head: TreeHead) -> dict[str, object]:
    return {
        "tree_size": head.tree_size,
        "root": head.root,
        "timestamp_ms": head.timestamp_ms,
        "signature": head.signature,
        "key_id": head.key_id,
    }
