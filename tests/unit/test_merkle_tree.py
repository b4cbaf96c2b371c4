"""The tree's hashing and proofs (infrastructure/transparency/merkle.py) against
the Certificate Transparency reference vectors and an independent RFC 9162
verifier (tests/rfc9162.py), for every tree shape up to 70 leaves."""

from __future__ import annotations

import hashlib
from uuid import uuid4

import pytest
from eventsourcing.persistence import Notification

from infrastructure.transparency import merkle
from infrastructure.transparency.tree import event_leaf
from tests import rfc9162

# RFC 6962 / 9162 reference inputs and roots (certificate-transparency test data).
CT_ENTRIES = [bytes.fromhex(h) for h in (
    "", "00", "10", "2021", "3031", "40414243", "5051525354555657",
    "606162636465666768696a6b6c6d6e6f",
)]  # fmt: skip
CT_ROOTS = [
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
]
CT_INCLUSION_0_OF_8 = [
    "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
    "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
    "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
]
MAX = 70


class StoredTree:
    """What the database holds: every leaf and every node a Frontier completes."""

    def __init__(self, leaves: list[bytes]) -> None:
        self.frontier = merkle.Frontier()
        self.nodes: dict[merkle.Node, bytes] = {}
        for index, leaf in enumerate(leaves):
            self.nodes[(0, index)] = leaf
            for level, node_index, digest in self.frontier.append(leaf):
                self.nodes[(level, node_index)] = digest

    def fetch(self, ranges: list[tuple[int, int]]) -> list[bytes]:
        wanted = merkle.nodes_of(ranges)
        return merkle.assemble(ranges, {node: self.nodes[node] for node in wanted})


LEAVES = [merkle.leaf_hash(i.to_bytes(2, "big")) for i in range(MAX)]
TREE = StoredTree(LEAVES)


def test_roots_match_the_certificate_transparency_reference():
    frontier = merkle.Frontier()
    assert (
        merkle.fold([]).hex() == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    )
    for entry, root in zip(CT_ENTRIES, CT_ROOTS, strict=True):
        frontier.append(merkle.leaf_hash(entry))
        assert frontier.root().hex() == root


def test_the_reference_inclusion_proof_is_ours():
    tree = StoredTree([merkle.leaf_hash(e) for e in CT_ENTRIES])
    assert [h.hex() for h in tree.fetch(merkle.inclusion_ranges(0, 8))] == CT_INCLUSION_0_OF_8


@pytest.mark.parametrize("size", range(1, MAX + 1))
def test_every_root_and_inclusion_proof_agrees_with_the_rfc(size):
    root = rfc9162.mth_of_leaf_hashes(LEAVES[:size])
    frontier = merkle.Frontier()
    for leaf in LEAVES[:size]:
        frontier.append(leaf)
    assert frontier.root() == root
    assert merkle.Frontier.load(size, lambda wanted: TREE.nodes).root() == root
    for index in range(size):
        path = TREE.fetch(merkle.inclusion_ranges(index, size))
        assert path == rfc9162.path(index, LEAVES[:size])
        assert rfc9162.verify_inclusion(index, size, LEAVES[index], path, root)
        assert merkle.verify_inclusion(LEAVES[index], index, size, path, root)
        other = merkle.leaf_hash(b"other")
        assert not rfc9162.verify_inclusion(index, size, other, path, root)


@pytest.mark.parametrize("new", range(1, 41))
def test_every_consistency_proof_agrees_with_the_rfc(new):
    new_root = rfc9162.mth_of_leaf_hashes(LEAVES[:new])
    for old in range(1, new + 1):
        old_root = rfc9162.mth_of_leaf_hashes(LEAVES[:old])
        path = TREE.fetch(merkle.consistency_ranges(old, new))
        assert path == rfc9162.proof(old, LEAVES[:new])
        assert rfc9162.verify_consistency(old, new, old_root, new_root, path)
        assert merkle.verify_consistency(old, new, old_root, new_root, path)
        forged = merkle.leaf_hash(b"forged")
        assert not rfc9162.verify_consistency(old, new, forged, new_root, path)
        assert not merkle.verify_consistency(old, new, forged, new_root, path)


def test_a_proof_with_a_changed_hash_fails():
    size, index = 37, 21
    root = rfc9162.mth_of_leaf_hashes(LEAVES[:size])
    path = TREE.fetch(merkle.inclusion_ranges(index, size))
    for position in range(len(path)):
        bad = list(path)
        bad[position] = bytes(32)
        assert not merkle.verify_inclusion(LEAVES[index], index, size, bad, root)
    assert not merkle.verify_inclusion(LEAVES[index], index, size, path[:-1], root)
    assert not merkle.verify_inclusion(LEAVES[index], index + 1, size, path, root)


def test_a_leaf_is_the_rfc_leaf_hash_of_the_stored_events_canonical_bytes():
    originator = uuid4()
    notification = Notification(
        id=7, originator_id=originator, originator_version=3, topic="t:T", state=b'{"a":1}'
    )
    canonical = f"7\n{originator.hex}\n3\nt:T\n".encode() + b'{"a":1}'
    assert event_leaf(notification) == hashlib.sha256(b"\x00" + canonical).digest()
