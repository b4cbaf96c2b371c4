"""Signed tree heads: (size, root, time) signed with Ed25519, and their JSON form.

The private key lives in a file named in settings, never in the database; the
key id is the SHA-256 of the raw public key, so a head names the key it needs.
"""

from __future__ import annotations

import base64
import hashlib
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

HEAD_CONTEXT = b"tradestate-tree-head-v1\n"
UNSIGNED_NOTE = (
    "tree heads are UNSIGNED (no signing key configured): their signatures prove nothing"
)


@dataclass(frozen=True)
class TreeHead:
    tree_size: int
    root: bytes
    timestamp_ms: int
    signature: bytes | None = None
    key_id: str | None = None

    def message(self) -> bytes:
        """The bytes an Ed25519 signature covers."""
        return HEAD_CONTEXT + f"{self.tree_size}\n{self.root.hex()}\n{self.timestamp_ms}".encode()

    def to_json(self) -> dict[str, Any]:
        return {
            "treeSize": self.tree_size,
            "rootHash": self.root.hex(),
            "timestampMs": self.timestamp_ms,
            "signature": None if self.signature is None else b64(self.signature),
            "keyId": self.key_id,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> TreeHead:
        try:
            signature = data.get("signature")
            return cls(
                tree_size=int(data["treeSize"]),
                root=bytes.fromhex(data["rootHash"]),
                timestamp_ms=int(data["timestampMs"]),
                signature=None if signature is None else base64.b64decode(signature),
                key_id=data.get("keyId"),
            )
        except (KeyError, TypeError, ValueError) as error:
            raise ValueError(f"not a tree head: {error}") from None


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def key_id(public_key: Ed25519PublicKey) -> str:
    raw = public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()[:16]


class HeadSigner:
    def __init__(self, private_key: Ed25519PrivateKey) -> None:
        self.private_key = private_key
        self.key_id = key_id(private_key.public_key())

    @classmethod
    def from_file(cls, path: Path) -> HeadSigner:
        key = serialization.load_pem_private_key(path.read_bytes(), password=None)
        if not isinstance(key, Ed25519PrivateKey):
            raise ValueError(f"{path} does not hold an Ed25519 private key")
        return cls(key)

    def sign(self, head: TreeHead) -> TreeHead:
        signature = self.private_key.sign(head.message())
        return TreeHead(head.tree_size, head.root, head.timestamp_ms, signature, self.key_id)


def load_public_key(path: Path) -> Ed25519PublicKey:
    """An Ed25519 public key from a PEM file (or the public half of a private key file)."""
    data = path.read_bytes()
    if b"PRIVATE KEY" in data:
        private = serialization.load_pem_private_key(data, password=None)
        if not isinstance(private, Ed25519PrivateKey):
            raise ValueError(f"{path} does not hold an Ed25519 key")
        return private.public_key()
    key = serialization.load_pem_public_key(data)
    if not isinstance(key, Ed25519PublicKey):
        raise ValueError(f"{path} does not hold an Ed25519 public key")
    return key


def signature_problem(head: TreeHead, public_key: Ed25519PublicKey | None) -> str | None:
    """Why the head's signature does not hold (None: it does). Unsigned heads and a
    missing public key are problems: the caller decides how to report them."""
    if head.signature is None:
        return "unsigned"
    if public_key is None:
        return "no public key given to check the signature"
    if head.key_id is not None and head.key_id != key_id(public_key):
        return f"signed by key {head.key_id}, not by the given key {key_id(public_key)}"
    try:
        public_key.verify(head.signature, head.message())
    except InvalidSignature:
        return "the signature does not match"
    return None


def write_key_pair(private_path: Path) -> Path:
    """A fresh Ed25519 key pair: the private key (mode 0600) and `<path>.pub`."""
    key = Ed25519PrivateKey.generate()
    private_pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    public_pem = key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    descriptor = os.open(private_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "wb") as file:
        file.write(private_pem)
    public_path = private_path.with_name(private_path.name + ".pub")
    public_path.write_bytes(public_pem)
    return public_path
