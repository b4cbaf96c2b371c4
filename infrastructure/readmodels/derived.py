"""Derived bookkeeping beside the read models, rebuilt from the log at will.

`rm_compat_kinds` holds every (event topic, class version) stored up to the
sequence in `rm_compat_watermark`, so the start-up compatibility check reads
only the events after it (SPEC section 4). `rm_checkpoints` holds the state
`replay --until-*` shows, every K events, with the time range of the events
since the previous checkpoint: time travel starts from the nearest one and
`--until-time` finds its range by the `min_time` index (ADR 017). Its parts
are listed in `rm_checkpoint_parts` by digest, their bytes held once in
`rm_checkpoint_blobs` (ADR 027).
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, ForeignKey, Index, Integer, LargeBinary, Table, Text

from infrastructure.readmodels.metadata import metadata
from infrastructure.sqltypes import UtcDateTime

compat_kinds_table = Table(
    "rm_compat_kinds",
    metadata,
    Column("topic", Text, primary_key=True),
    Column("class_version", Integer, primary_key=True),
    Column("events", BigInteger, nullable=False),
)

compat_watermark_table = Table(
    "rm_compat_watermark",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("sequence", BigInteger, nullable=False),
)

checkpoints_table = Table(
    "rm_checkpoints",
    metadata,
    Column("sequence", BigInteger, primary_key=True),
    Column("min_time", UtcDateTime, nullable=False),
    Column("max_time", UtcDateTime, nullable=False),
    Column("digest", Text, nullable=False),
    Column("parts", Integer, nullable=False),
    Index(None, "min_time"),
)

#: Each distinct part once, by its SHA-256 (hex): a checkpoint grown from the one
#: before shares the parts no change since fell in (ADR 027).
checkpoint_blobs_table = Table(
    "rm_checkpoint_blobs",
    metadata,
    Column("digest", Text, primary_key=True),
    Column("data", LargeBinary, nullable=False),
)

checkpoint_parts_table = Table(
    "rm_checkpoint_parts",
    metadata,
    Column("sequence", BigInteger, primary_key=True),
    Column("part", Integer, primary_key=True),
    Column("digest", Text, ForeignKey("rm_checkpoint_blobs.digest"), nullable=False, index=True),
)


def _history_indexes() -> None:
    """`orders(instrument:|status:)` and `trades(instrument:)` list newest first: an
    index on (filter, order) reads only the rows returned, whatever the history."""
    from infrastructure.readmodels.tables import SLOTS, projection_tables

    for slot in SLOTS:
        tables = projection_tables(slot)
        Index(None, tables.orders.c.instrument, tables.orders.c.created_at)
        Index(None, tables.orders.c.status, tables.orders.c.created_at)
        Index(None, tables.trades.c.instrument, tables.trades.c.sequence)


_history_indexes()
