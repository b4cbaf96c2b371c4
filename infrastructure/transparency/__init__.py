"""The transparency log: an RFC 9162 Merkle tree over the stored events (SPEC 8, ADR 014)."""
