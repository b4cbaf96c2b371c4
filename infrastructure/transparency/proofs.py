"""Inclusion proofs as documents an auditor can check offline: the event's
canonical bytes, its leaf index, the RFC 9162 path and the head it is under."""

from __future__ import annotations

import base64
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from eventsourcing.persistence import ApplicationRecorder
from sqlalchemy import Connection

from infrastructure.transparency import merkle
from infrastructure.transparency.heads import TreeHead, signature_problem
from infrastructure.transparency.tree import (
    canonical_bytes,
    head_covering,
    inclusion_path,
    leaf_at,
    root_at,
)
from infrastructure.transparency.verify import as_tree_head


class ProofUnavailable(LookupError):
    """No proof can be given (yet) for this sequence under the asked head."""


def inclusion_proof(
    connection: Connection,
    recorder: ApplicationRecorder,
    sequence: int,
    head: TreeHead | None = None,
) -> dict[str, Any]:
    """The proof document for the event at `sequence`, under `head` (default: the
    first stored head that covers it). O(log n) reads."""
    found = leaf_at(connection, sequence)
    if found is None:
        raise ProofUnavailable(f"sequence {sequence} is not in the transparency log (yet)")
    index, leaf = found
    if head is None:
        stored = head_covering(connection, index + 1)
        if stored is None:
            raise ProofUnavailable(
                f"sequence {sequence} is not under a tree head yet; try again in a moment"
            )
        head = as_tree_head(stored)
    elif head.tree_size <= index:
        raise ProofUnavailable(
            f"sequence {sequence} (leaf {index}) is not under the given head of "
            f"{head.tree_size} leaves"
        )
    elif root_at(connection, head.tree_size) != head.root:
        raise ProofUnavailable(
            f"the given head of {head.tree_size} leaves does not match this store's tree"
        )
    [notification] = recorder.select_notifications(sequence, 1, stop=sequence)
    return {
        "sequence": sequence,
        "leafIndex": index,
        "leafHash": leaf.hex(),
        "event": base64.b64encode(canonical_bytes(notification)).decode(),
        "treeSize": head.tree_size,
        "path": [h.hex() for h in inclusion_path(connection, index, head.tree_size)],
        "head": head.to_json(),
    }


def check_proof(document: dict[str, Any], public_key: Ed25519PublicKey | None) -> list[str]:
    """What is wrong with a proof document (empty: it holds). Needs no database."""
    try:
        head = TreeHead.from_json(document["head"])
        index, size = int(document["leafIndex"]), int(document["treeSize"])
        path = [bytes.fromhex(h) for h in document["path"]]
        leaf = bytes.fromhex(document["leafHash"])
        event = base64.b64decode(document["event"], validate=True)
        sequence = int(document["sequence"])
    except (KeyError, TypeError, ValueError) as error:
        return [f"not a proof document: {error}"]
    problems = []
    if merkle.leaf_hash(event) != leaf:
        problems.append("the event's bytes do not hash to the leaf")
    if not event.startswith(f"{sequence}\n".encode()):
        problems.append(f"the event's bytes are not those of sequence {sequence}")
    if size != head.tree_size:
        problems.append(f"the proof is for {size} leaves, the head has {head.tree_size}")
    if not merkle.verify_inclusion(leaf, index, head.tree_size, path, head.root):
        problems.append("the inclusion path does not lead to the head's root")
    signature = signature_problem(head, public_key)
    if signature is not None and public_key is not None:
        problems.append(f"head signature: {signature}")
    return problems
