"""Bookkeeping tables of the projections, outside the blue/green slots.

`rm_slots` says which slot each projection's queries read; `rm_tracking`
records, per projection and slot (name "positions:a"), the last notification
id applied, written in the same transaction as the read-model rows, and the
event a failed projection stopped at.
"""

from __future__ import annotations

from sqlalchemy import BigInteger, CheckConstraint, Column, Integer, Table, Text

from infrastructure.readmodels.metadata import metadata
from infrastructure.sqltypes import UtcDateTime

slots_table = Table(
    "rm_slots",
    metadata,
    Column("name", Text, primary_key=True),
    Column("active_slot", Text, nullable=False),
    Column("generation", Integer, nullable=False),
    CheckConstraint("active_slot IN ('a', 'b')", name="active_slot"),
)

tracking_table = Table(
    "rm_tracking",
    metadata,
    Column("name", Text, primary_key=True),
    Column("notification_id", BigInteger, nullable=False),
    Column("error", Text),
    Column("error_sequence", BigInteger),
    Column("updated_at", UtcDateTime, nullable=False),
)


def tracking_name(projection: str, slot: str) -> str:
    """The `rm_tracking.name` of one projection's slot, e.g. "positions:a"."""
    return f"{projection}:{slot}"
