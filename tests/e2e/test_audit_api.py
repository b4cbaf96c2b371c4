"""`auditHead` and `inclusionProof` from a real server with a signing key: the head
is signed by the key the auditor holds, and the proof verifies with the tests'
independent RFC 9162 verifier; a sequence no head covers yet is NOT_FOUND."""

from __future__ import annotations

import base64
import time
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from tests import rfc9162
from tests.e2e.server import running_server
from tests.e2e.test_http import place

pytestmark = pytest.mark.e2e

HEAD = "{ auditHead { treeSize rootHash timestampMs signature keyId } }"
PROOF = """query($s: Int!) {
  inclusionProof(sequence: $s) {
    sequence leafIndex leafHash event treeSize path
    head { treeSize rootHash timestampMs signature keyId }
  }
}"""


def signed_message(head: dict) -> bytes:
    """What the head's signature covers (ADR 014)."""
    size, root, time_ms = head["treeSize"], head["rootHash"], int(head["timestampMs"])
    return f"tradestate-tree-head-v1\n{size}\n{root}\n{time_ms}".encode()


def test_a_signed_head_and_a_proof_over_graphql(tmp_path: Path) -> None:
    key = Ed25519PrivateKey.generate()
    key_file = tmp_path / "signing.pem"
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    with running_server(
        tmp_path,
        transparency_signing_key_file=str(key_file),
        transparency_head_every_seconds="0.2",
    ) as server:
        sequence = place(server, "proved-1", "ACME", "BUY", "1")["sequence"]
        deadline = time.monotonic() + 30
        while True:
            body = server.post(PROOF, {"s": sequence})
            if "errors" not in body or time.monotonic() > deadline:
                break
            assert body["errors"][0]["extensions"]["code"] == "NOT_FOUND"
            time.sleep(0.1)
        proof = body["data"]["inclusionProof"]
        head = proof["head"]
        assert proof["sequence"] == sequence and head["treeSize"] >= sequence
        leaf = rfc9162.leaf_hash(base64.b64decode(proof["event"]))
        assert leaf.hex() == proof["leafHash"]
        assert rfc9162.verify_inclusion(
            proof["leafIndex"],
            proof["treeSize"],
            leaf,
            [bytes.fromhex(h) for h in proof["path"]],
            bytes.fromhex(head["rootHash"]),
        )
        key.public_key().verify(base64.b64decode(head["signature"]), signed_message(head))
        latest = server.data(HEAD)["auditHead"]
        assert latest["treeSize"] >= head["treeSize"] and latest["signature"]
        beyond = server.post(PROOF, {"s": sequence + 1000})
        assert beyond["errors"][0]["extensions"]["code"] == "NOT_FOUND"
        assert "data" not in beyond or beyond["data"] is None
