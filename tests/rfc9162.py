"""An independent RFC 9162 verifier for the tests, written from the RFC's text
(section 2.1), sharing no code with infrastructure/transparency: the Merkle Tree
Hash by its recursive definition (2.1.1), inclusion and consistency proofs by
their definitions (2.1.3.1, 2.1.4.1) and the verification algorithms
(2.1.3.2, 2.1.4.2), step for step."""

from __future__ import annotations

import hashlib


def _h(data: bytes) -> bytes:
    return hashlib.sha256(data).digest()


def leaf_hash(entry: bytes) -> bytes:
    return _h(b"\x00" + entry)


def _k(n: int) -> int:
    """The largest power of two smaller than n."""
    k = 1
    while k * 2 < n:
        k *= 2
    return k


def mth_of_leaf_hashes(hashes: list[bytes]) -> bytes:
    """MTH(D[n]) given the leaf hashes (2.1.1)."""
    n = len(hashes)
    if n == 0:
        return _h(b"")
    if n == 1:
        return hashes[0]
    k = _k(n)
    return _h(b"\x01" + mth_of_leaf_hashes(hashes[:k]) + mth_of_leaf_hashes(hashes[k:]))


def path(m: int, hashes: list[bytes]) -> list[bytes]:
    """PATH(m, D[n]) (2.1.3.1)."""
    n = len(hashes)
    if n == 1:
        return []
    k = _k(n)
    if m < k:
        return path(m, hashes[:k]) + [mth_of_leaf_hashes(hashes[k:])]
    return path(m - k, hashes[k:]) + [mth_of_leaf_hashes(hashes[:k])]


def proof(m: int, hashes: list[bytes]) -> list[bytes]:
    """PROOF(m, D[n]) = SUBPROOF(m, D[n], true) (2.1.4.1)."""

    def subproof(m: int, d: list[bytes], b: bool) -> list[bytes]:
        n = len(d)
        if m == n:
            return [] if b else [mth_of_leaf_hashes(d)]
        k = _k(n)
        if m <= k:
            return subproof(m, d[:k], b) + [mth_of_leaf_hashes(d[k:])]
        return subproof(m - k, d[k:], False) + [mth_of_leaf_hashes(d[:k])]

    return subproof(m, hashes, True)


def verify_inclusion(
    leaf_index: int, tree_size: int, leaf: bytes, inclusion_path: list[bytes], root: bytes
) -> bool:
    """2.1.3.2, steps 1-5."""
    if leaf_index >= tree_size:
        return False
    fn, sn = leaf_index, tree_size - 1
    r = leaf
    for p in inclusion_path:
        if sn == 0:
            return False
        if fn % 2 == 1 or fn == sn:
            r = _h(b"\x01" + p + r)
            if fn % 2 == 0:
                while not (fn % 2 == 1 or fn == 0):
                    fn, sn = fn >> 1, sn >> 1
        else:
            r = _h(b"\x01" + r + p)
        fn, sn = fn >> 1, sn >> 1
    return sn == 0 and r == root


def verify_consistency(
    first: int, second: int, first_hash: bytes, second_hash: bytes, consistency_path: list[bytes]
) -> bool:
    """2.1.4.2, steps 1-7 (for first < second; equal trees need an empty proof)."""
    if first == second:
        return consistency_path == [] and first_hash == second_hash
    if not consistency_path:
        return False
    consistency_path = list(consistency_path)
    if first & (first - 1) == 0:
        consistency_path.insert(0, first_hash)
    fn, sn = first - 1, second - 1
    while fn % 2 == 1:
        fn, sn = fn >> 1, sn >> 1
    fr = sr = consistency_path[0]
    for c in consistency_path[1:]:
        if sn == 0:
            return False
        if fn % 2 == 1 or fn == sn:
            fr = _h(b"\x01" + c + fr)
            sr = _h(b"\x01" + c + sr)
            if fn % 2 == 0:
                while not (fn % 2 == 1 or fn == 0):
                    fn, sn = fn >> 1, sn >> 1
        else:
            sr = _h(b"\x01" + sr + c)
        fn, sn = fn >> 1, sn >> 1
    return fr == first_hash and sr == second_hash and sn == 0
