"""The audit chain: hash = sha256(previous hash ‖ canonical bytes of the stored event)."""

from __future__ import annotations

import hashlib
from typing import Any

from eventsourcing.persistence import Notification

from application.projections.base import Projection, RowStore

GENESIS = "0" * 64


def canonical_bytes(notification: Notification) -> bytes:
    """The stored event as the chain sees it: id, version, topic, then the state bytes."""
    originator = notification.originator_id
    originator_hex = originator.hex if hasattr(originator, "hex") else str(originator)
    header = f"{originator_hex}\n{notification.originator_version}\n{notification.topic}\n"
    return header.encode() + bytes(notification.state)


def chain_hash(previous: str, notification: Notification) -> str:
    return hashlib.sha256(bytes.fromhex(previous) + canonical_bytes(notification)).hexdigest()


class AuditChain(Projection):
    name = "audit"
    tables = ("audit_chain",)
    decodes = False

    def __init__(self) -> None:
        self._previous: str | None = None

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
            self._previous = last["hash"] if last else GENESIS
        digest = chain_hash(self._previous, notification)
        store.put("audit_chain", notification.id, {"sequence": notification.id, "hash": digest})
        self._previous = digest
