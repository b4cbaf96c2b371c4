"""The audit chain: hash = sha256(previous hash ‖ canonical bytes of the stored event)."""

from __future__ import annotations

import hashlib
from typing import Any
from uuid import UUID

from eventsourcing.persistence import Notification

from application.projections.base import Projection, RowStore

GENESIS = "0" * 64


def canonical_bytes(notification: Notification) -> bytes:
    """The stored event as the chain sees it: id, version, topic, then the state bytes."""
    return _header(notification) + bytes(notification.state)


def _header(notification: Notification) -> bytes:
    originator = notification.originator_id
    originator_hex = originator.hex if isinstance(originator, UUID) else str(originator)
    return f"{originator_hex}\n{notification.originator_version}\n{notification.topic}\n".encode()


def chain_hash(previous: str, notification: Notification) -> str:
    return chain_digest(bytes.fromhex(previous), notification).hex()


def chain_digest(previous: bytes, notification: Notification) -> bytes:
    """`chain_hash` on digests rather than hex text, the state hashed where it lies."""
    digest = hashlib.sha256(previous)
    digest.update(_header(notification))
    digest.update(notification.state)
    return digest.digest()


class AuditChain(Projection):
    name = "audit"
    tables = ("audit_chain",)
    decodes = False

    def __init__(self) -> None:
        self._previous: bytes | None = None

    @classmethod
    def topics(cls) -> tuple[str, ...]:
        return ()

    def reset(self) -> None:
        self._previous = None

    def apply(self, event: Any, sequence: int, store: RowStore) -> None:
        raise TypeError("the audit chain works on stored events; use apply_raw")

    def apply_raw(self, notification: Notification, store: RowStore) -> None:
        if self._previous is None:
            last = store.last("audit_chain")
            self._previous = bytes.fromhex(last["hash"] if last else GENESIS)
        digest = chain_digest(self._previous, notification)
        store.put(
            "audit_chain", notification.id, {"sequence": notification.id, "hash": digest.hex()}
        )
        self._previous = digest
