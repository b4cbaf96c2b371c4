"""RFC 9162 Merkle tree hashing, proofs and their verification (section 2.1).

Pure functions over digests. A tree of `size` leaves is addressed by its
perfect subtrees: node (level, index) covers leaves [index·2^level,
(index+1)·2^level). Proof paths name the nodes they need (`*_nodes`), so the
caller fetches O(log n) stored hashes and `*_path` assembles them.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Mapping

Node = tuple[int, int]  # (level, index)
EMPTY_ROOT = hashlib.sha256(b"").digest()


def leaf_hash(data: bytes) -> bytes:
    return hashlib.sha256(b"\x00" + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(b"\x01" + left + right).digest()


def _largest_power_below(n: int) -> int:
    """The largest power of two smaller than n (n > 1)."""
    return 1 << ((n - 1).bit_length() - 1)


def range_nodes(start: int, end: int) -> list[Node]:
    """The perfect subtrees that make up MTH(D[start:end]) for an aligned `start`,
    left to right (RFC 9162 splits at the largest power of two below the width)."""
    nodes: list[Node] = []
    while start < end:
        width = end - start
        if width & (width - 1) == 0 and start % width == 0:
            level = width.bit_length() - 1
            nodes.append((level, start >> level))
            return nodes
        k = _largest_power_below(width)
        level = k.bit_length() - 1
        nodes.append((level, start >> level))
        start += k
    return nodes


def fold(hashes: list[bytes]) -> bytes:
    """MTH of a range from its perfect subtrees, left to right (`range_nodes`)."""
    if not hashes:
        return EMPTY_ROOT
    result = hashes[-1]
    for left in reversed(hashes[:-1]):
        result = node_hash(left, result)
    return result


def _subproof_ranges(m: int, start: int, end: int, b: bool) -> list[tuple[int, int]]:
    """RFC 9162 2.1.4.1 SUBPROOF(m, D[start:end], b), as leaf ranges, deepest first."""
    n = end - start
    if m == n:
        return [] if b else [(start, end)]
    k = _largest_power_below(n)
    if m <= k:
        return [*_subproof_ranges(m, start, start + k, b), (start + k, end)]
    return [*_subproof_ranges(m - k, start + k, end, False), (start, start + k)]


def _path_ranges(m: int, start: int, end: int) -> list[tuple[int, int]]:
    """RFC 9162 2.1.3.1 PATH(m, D[start:end]) as leaf ranges, deepest first."""
    n = end - start
    if n <= 1:
        return []
    k = _largest_power_below(n)
    if m < k:
        return [*_path_ranges(m, start, start + k), (start + k, end)]
    return [*_path_ranges(m - k, start + k, end), (start, start + k)]


def inclusion_ranges(index: int, size: int) -> list[tuple[int, int]]:
    if not 0 <= index < size:
        raise ValueError(f"leaf {index} is not in a tree of {size} leaves")
    return _path_ranges(index, 0, size)


def consistency_ranges(old_size: int, new_size: int) -> list[tuple[int, int]]:
    if not 0 < old_size <= new_size:
        raise ValueError(f"no consistency proof from {old_size} leaves to {new_size}")
    return _subproof_ranges(old_size, 0, new_size, True)


def nodes_of(ranges: Iterable[tuple[int, int]]) -> set[Node]:
    return {node for start, end in ranges for node in range_nodes(start, end)}


def assemble(ranges: Iterable[tuple[int, int]], hashes: Mapping[Node, bytes]) -> list[bytes]:
    """Each range's MTH from the fetched perfect-subtree hashes."""
    return [fold([hashes[node] for node in range_nodes(s, e)]) for s, e in ranges]


def verify_inclusion(leaf: bytes, index: int, size: int, path: list[bytes], root: bytes) -> bool:
    """RFC 9162 2.1.3.2."""
    if index >= size:
        return False
    fn, sn, r = index, size - 1, leaf
    for p in path:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            if not fn & 1:
                while fn & 1 == 0 and fn != 0:
                    fn >>= 1
                    sn >>= 1
        else:
            r = node_hash(r, p)
        fn >>= 1
        sn >>= 1
    return sn == 0 and r == root


def verify_consistency(
    old_size: int, new_size: int, old_root: bytes, new_root: bytes, path: list[bytes]
) -> bool:
    """RFC 9162 2.1.4.2."""
    if old_size > new_size or old_size == 0:
        return False
    if old_size == new_size:
        return not path and old_root == new_root
    if old_size & (old_size - 1) == 0:
        path = [old_root, *path]
    if not path:
        return False
    fn, sn = old_size - 1, new_size - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            fr, sr = node_hash(c, fr), node_hash(c, sr)
            if not fn & 1:
                while fn & 1 == 0 and fn != 0:
                    fn >>= 1
                    sn >>= 1
        else:
            sr = node_hash(sr, c)
        fn >>= 1
        sn >>= 1
    return sn == 0 and fr == old_root and sr == new_root


class Frontier:
    """The perfect subtrees of the tree so far (at most log2 n): appending a leaf
    costs O(1) amortized and yields the nodes it completes, to store."""

    def __init__(self, size: int = 0, hashes: list[bytes] | None = None) -> None:
        self.size = size
        self.hashes = list(hashes or [])  # largest subtree first

    @classmethod
    def load(cls, size: int, fetch: Callable[[list[Node]], Mapping[Node, bytes]]) -> Frontier:
        nodes = range_nodes(0, size)
        found = fetch(nodes)
        return cls(size, [found[node] for node in nodes])

    def append(self, leaf: bytes) -> list[tuple[int, int, bytes]]:
        """Add a leaf; the (level, index, hash) of every node it completes (level ≥ 1)."""
        completed = []
        h, level, index = leaf, 0, self.size
        while index & 1:
            h = node_hash(self.hashes.pop(), h)
            level, index = level + 1, index >> 1
            completed.append((level, index, h))
        self.hashes.append(h)
        self.size += 1
        return completed

    def root(self) -> bytes:
        return fold(self.hashes)
