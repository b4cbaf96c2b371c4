"""`auditHead` and `inclusionProof`: the transparency log's latest head and an
event's inclusion proof, as `tradestate audit head` / `audit prove` print them."""

from __future__ import annotations

from typing import Annotated

import strawberry
from strawberry.types import Info

from infrastructure.transparency.heads import TreeHead
from infrastructure.transparency.proofs import ProofUnavailable, inclusion_proof
from infrastructure.transparency.verify import fixed_head
from interfaces.api.errors import ApiError


@strawberry.type(description="A tree head of the transparency log (RFC 9162 Merkle tree).")
class AuditHead:
    tree_size: int = strawberry.field(description="Events (leaves) under this head.")
    root_hash: str = strawberry.field(description="The Merkle tree hash, hex.")
    timestamp_ms: float = strawberry.field(description="When it was made, ms since the epoch.")
    signature: str | None = strawberry.field(
        description="Ed25519 over the head, base64; null when the server has no signing key."
    )
    key_id: str | None = strawberry.field(description="Which key signed it.")


@strawberry.type(description="Proof that one event is in the log under a tree head.")
class InclusionProof:
    sequence: int
    leaf_index: int
    leaf_hash: str = strawberry.field(description="SHA-256(0x00 ‖ event bytes), hex.")
    event: str = strawberry.field(description="The event's canonical bytes, base64.")
    tree_size: int
    path: list[str] = strawberry.field(description="The RFC 9162 inclusion path, hex.")
    head: AuditHead


def _head(head: TreeHead) -> AuditHead:
    data = head.to_json()
    return AuditHead(
        tree_size=head.tree_size,
        root_hash=data["rootHash"],
        timestamp_ms=head.timestamp_ms,
        signature=data["signature"],
        key_id=head.key_id,
    )


async def audit_head(info: Info) -> AuditHead:
    """The latest tree head (or the tree as it stands, unsigned, before the first)."""
    api = info.context["api"]

    def read() -> TreeHead:
        with api.system.engine.connect() as connection:
            return fixed_head(connection)

    return _head(await api.run(read))


async def inclusion_proof_of(
    info: Info,
    sequence: Annotated[int, strawberry.argument(description="The event's sequence.")],
) -> InclusionProof:
    """The event's inclusion proof under the first stored head that covers it."""
    api = info.context["api"]

    def read() -> dict:
        with api.system.engine.connect() as connection:
            return inclusion_proof(connection, api.app.recorder, sequence)

    try:
        proof = await api.run(read)
    except ProofUnavailable as error:
        raise ApiError(str(error), "NOT_FOUND", field="sequence") from None
    return InclusionProof(
        sequence=proof["sequence"],
        leaf_index=proof["leafIndex"],
        leaf_hash=proof["leafHash"],
        event=proof["event"],
        tree_size=proof["treeSize"],
        path=proof["path"],
        head=_head(TreeHead.from_json(proof["head"])),
    )
