"""The transparency log's tables: append-only (the database refuses UPDATE and
DELETE: triggers made by migration 0002), never rebuilt, not slotted.

- `tl_leaves`: leaf index → the event's sequence and RFC 9162 leaf hash;
- `tl_nodes`: the hash of every perfect subtree of level ≥ 1, (level, index),
  so a root or a proof costs O(log n) reads;
- `tl_heads`: tree heads (size, root, time), Ed25519-signed when a key is set;
- `tl_meta`: facts written once, e.g. the sequence from which the tree
  witnessed events as they were written (`witnessed_from`).
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, Integer, LargeBinary, Table, Text

from infrastructure.readmodels.metadata import metadata

TABLES = ("tl_leaves", "tl_nodes", "tl_heads", "tl_meta")
APPEND_ONLY_MESSAGE = "the transparency log is append-only"

leaves = Table(
    "tl_leaves",
    metadata,
    Column("leaf_index", BigInteger, primary_key=True, autoincrement=False),
    Column("sequence", BigInteger, nullable=False, unique=True),
    Column("hash", LargeBinary, nullable=False),
)

nodes = Table(
    "tl_nodes",
    metadata,
    Column("level", Integer, primary_key=True, autoincrement=False),
    Column("node_index", BigInteger, primary_key=True, autoincrement=False),
    Column("hash", LargeBinary, nullable=False),
)

heads = Table(
    "tl_heads",
    metadata,
    Column("tree_size", BigInteger, primary_key=True, autoincrement=False),
    Column("root", LargeBinary, nullable=False),
    Column("timestamp_ms", BigInteger, nullable=False),
    Column("signature", LargeBinary, nullable=True),
    Column("key_id", Text, nullable=True),
)

meta = Table(
    "tl_meta",
    metadata,
    Column("key", Text, primary_key=True),
    Column("value", Text, nullable=False),
)
