"""The integrity part of `audit verify`, on a head fixed when it starts.

One pass over the log up to the head's last leaf, beside the tree's leaves in
order: each event's leaf hash must equal its leaf's (else it was altered or
reordered), no leaf may lack its event (deleted, truncated), no event may lack
its leaf (inserted). The stored leaves are folded as they go by, so each
stored head's root, and each trusted head's, is checked at its size; the tree's
stored nodes must give the same root, and a consistency proof from each
trusted head to the fixed one must hold (RFC 9162 2.1.4).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from sqlalchemy import Connection, Engine

from infrastructure.database import DatabaseUrl
from infrastructure.transparency import merkle
from infrastructure.transparency.batches import check_in_batches
from infrastructure.transparency.heads import UNSIGNED_NOTE, TreeHead, signature_problem
from infrastructure.transparency.logread import StoredRow, stored_pages
from infrastructure.transparency.tree import (
    StoredHead,
    consistency_path,
    last_sequence,
    latest_head,
    leaf_pages,
    root_at,
    row_leaf,
    stored_heads,
    tree_size,
    witnessed_from,
)


@dataclass
class Failure:
    sequence: int | None
    why: str


def as_tree_head(head: StoredHead) -> TreeHead:
    return TreeHead(head.tree_size, head.root, head.timestamp_ms, head.signature, head.key_id)


def fixed_head(connection: Connection) -> TreeHead:
    """The latest stored head, or an unsigned head over the whole tree if none."""
    stored = latest_head(connection)
    if stored is not None:
        return as_tree_head(stored)
    size = tree_size(connection)
    return TreeHead(size, root_at(connection, size), 0)


@dataclass
class Integrity:
    """Feed it the log's notifications in order, up to `end_sequence`, then `finish`."""

    connection: Connection
    head: TreeHead
    trusted: list[TreeHead] = field(default_factory=list)
    public_key: Ed25519PublicKey | None = None
    failure: Failure | None = None
    checked: int = 0
    notes: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.end_sequence = last_sequence(self.connection, self.head.tree_size)
        self.heads = stored_heads(self.connection, self.head.tree_size)
        self.roots_wanted: dict[int, list[tuple[str, bytes]]] = {}
        for stored in self.heads:
            self.roots_wanted.setdefault(stored.tree_size, []).append(
                (f"stored head of {stored.tree_size} leaves", stored.root)
            )
        for trusted in self.trusted:
            self.roots_wanted.setdefault(trusted.tree_size, []).append(
                (f"trusted head of {trusted.tree_size} leaves", trusted.root)
            )
        self.roots_wanted.setdefault(self.head.tree_size, []).append(
            ("the fixed head", self.head.root)
        )
        self.frontier = merkle.Frontier()
        self._leaves: Iterator[tuple[int, int, bytes]] = iter(())
        self._pending: tuple[int, int, bytes] | None = None

    def resume(self, start: int) -> None:
        """Check row by row (`feed`) from leaf `start` on, `frontier` holding the
        tree before it: the batched pass (batches.py) hands over here."""
        self._leaves = self._leaf_stream(start)
        self._pending = next(self._leaves, None)

    def _leaf_stream(self, start: int) -> Iterator[tuple[int, int, bytes]]:
        for page in leaf_pages(self.connection, self.head.tree_size, start=start):
            yield from page

    def _fail(self, sequence: int | None, why: str) -> None:
        if self.failure is None:
            self.failure = Failure(sequence, why)

    def _take_leaf(self, digest: bytes) -> None:
        self.frontier.append(digest)
        sequence = self._pending[1] if self._pending else 0
        self.check_root(self.frontier.size, sequence, self.frontier.root)
        self._pending = next(self._leaves, None)

    def check_root(self, size: int, sequence: int, root_of: Callable[[], bytes]) -> None:
        """The heads of `size` leaves (whose last leaf is `sequence`) against the root."""
        wanted = self.roots_wanted.get(size)
        if wanted:
            root = root_of()
            for label, expected in wanted:
                if expected != root:
                    self._fail(
                        None,
                        f"the {label} does not match the tree's leaves: "
                        f"history at or before sequence {sequence} was rewritten",
                    )

    def feed(self, page: list[StoredRow]) -> None:
        """Rows of the events table in sequence order (logread.stored_pages)."""
        for row in page:
            if self.failure is not None:
                return
            sequence = row[0]
            leaf = self._pending
            if leaf is not None and leaf[1] < sequence:
                self._fail(leaf[1], "it is in the tree but missing from the log (deleted)")
                return
            if leaf is None or leaf[1] > sequence:
                self._fail(sequence, "it is in the log but not in the tree (inserted)")
                return
            try:
                digest = row_leaf(row)
            except Exception as error:  # e.g. state rewritten as text, not bytes
                self._fail(sequence, f"its stored event cannot be hashed: {error}")
                return
            if digest != leaf[2]:
                self._fail(
                    sequence,
                    "its stored event differs from the one the tree witnessed "
                    "(altered, or moved from another sequence)",
                )
                return
            self.checked += 1
            self._take_leaf(leaf[2])

    def finish(self) -> None:
        if self.failure is None and self._pending is not None:
            self._fail(
                self._pending[1],
                "it is in the tree but missing from the log (deleted or truncated)",
            )
        size = self.head.tree_size
        if self.failure is None and size and root_at(self.connection, size) != self.frontier.root():
            self._fail(None, "the tree's stored nodes do not give its leaves' root")
        self._check_trusted()
        self._check_signatures()

    def _check_trusted(self) -> None:
        for trusted in self.trusted:
            problem = signature_problem(trusted, self.public_key)
            if problem not in (None, "unsigned", "no public key given to check the signature"):
                self._fail(None, f"trusted head of {trusted.tree_size} leaves: {problem}")
                continue
            if trusted.tree_size > self.head.tree_size:
                self._fail(
                    None,
                    f"the tree has {self.head.tree_size} leaves, fewer than the "
                    f"{trusted.tree_size} of a head you trusted (history truncated)",
                )
                continue
            if trusted.tree_size == 0:
                continue
            path = consistency_path(self.connection, trusted.tree_size, self.head.tree_size)
            if not merkle.verify_consistency(
                trusted.tree_size, self.head.tree_size, trusted.root, self.head.root, path
            ):
                self._fail(
                    None,
                    f"no consistency from the trusted head of {trusted.tree_size} leaves to "
                    f"the current head of {self.head.tree_size}: history was rewritten",
                )

    def _check_signatures(self) -> None:
        unsigned = signed = 0
        for stored in self.heads:
            problem = signature_problem(as_tree_head(stored), self.public_key)
            if problem == "unsigned":
                unsigned += 1
                if signed and self.public_key is not None:
                    self._fail(None, f"head of {stored.tree_size} leaves lost its signature")
            elif problem is None:
                signed += 1
            elif self.public_key is not None:
                self._fail(None, f"head of {stored.tree_size} leaves: {problem}")
            else:
                signed += 1
        if unsigned and not signed and self.public_key is not None:
            self._fail(None, "a public key was given, but no stored head is signed")
        elif unsigned and not signed:
            self.notes.append(UNSIGNED_NOTE)
        elif unsigned:
            self.notes.append(f"{unsigned} heads are unsigned (made before a key was set)")
        if signed and self.public_key is None:
            self.notes.append("no public key given: head signatures were NOT checked")
        elif signed:
            self.notes.append(f"{signed} head signatures hold")
        start = witnessed_from(self.connection)
        if start is not None and start > 1:
            self.notes.append(
                f"events before sequence {start} were added to the tree from the log at "
                "upgrade, not witnessed as they were written"
            )

    def summary(self) -> str:
        return (
            f"{self.checked} events match their leaves under the head of "
            f"{self.head.tree_size} leaves (root {self.head.root.hex()[:16]}…, "
            f"{len(self.heads)} stored heads, {len(self.trusted)} trusted)"
        )


def run_integrity(
    integrity: Integrity,
    engine: Engine,
    url: DatabaseUrl,
    progress: Callable[[str, int, int], None] | None = None,
) -> Integrity:
    """Check every event under the integrity's head in batches; from the first batch
    that does not simply match, row by row (which names what differs); then finish."""
    handed_over = check_in_batches(integrity, engine, url, progress)
    if handed_over is None:
        integrity.finish()
        return integrity
    start, after = handed_over
    integrity.resume(start)
    for page in stored_pages(engine, url, after, integrity.end_sequence):
        integrity.feed(page)
        if integrity.failure is not None:
            break
        if progress is not None:
            progress("transparency log", int(page[-1][0]), integrity.end_sequence)
    integrity.finish()
    return integrity


def check_log_against_tree(
    engine: Engine,
    url: DatabaseUrl,
    progress: Callable[[str, int, int], None] | None = None,
) -> Integrity:
    """Every event under the tree's current size against its leaf (no trusted heads,
    signatures not checked): what `replay --rebuild` requires before it runs."""
    with engine.connect() as connection:
        size = tree_size(connection)
        head = TreeHead(size, root_at(connection, size), 0)
        return run_integrity(Integrity(connection, head), engine, url, progress)
