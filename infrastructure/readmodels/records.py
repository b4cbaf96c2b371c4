"""Tables of the record-keeping projections: quotes, reconciliations.

Each function declares one slot's table on `metadata` (`@slotted`: the builder of
the table of that name); `tables.py` calls it once per slot for the projection
that declares the table.
"""

from __future__ import annotations

from sqlalchemy import (
    Boolean,
    Column,
    ForeignKeyConstraint,
    PrimaryKeyConstraint,
    Table,
    Text,
)

from infrastructure.readmodels.metadata import as_of_column, metadata, slotted
from infrastructure.sqltypes import DecimalType, UtcDateTime, UuidType


@slotted
def quotes_table(slot: str) -> Table:
    return Table(
        f"rm_quotes_{slot}",
        metadata,
        Column("instrument", Text, primary_key=True),
        Column("last", DecimalType, nullable=False),
        Column("bid", DecimalType),
        Column("ask", DecimalType),
        Column("volume", DecimalType),
        Column("timestamp", UtcDateTime, nullable=False),
        as_of_column(),
    )


@slotted
def reconciliations_table(slot: str) -> Table:
    return Table(
        f"rm_reconciliations_{slot}",
        metadata,
        Column("id", UuidType, primary_key=True),
        Column("policy", Text, nullable=False),
        Column("started_at", UtcDateTime, nullable=False, index=True),
        Column("completed_at", UtcDateTime),
        Column("corrected", Boolean, nullable=False),
        as_of_column(),
    )


@slotted
def mismatches_table(slot: str) -> Table:
    return Table(
        f"rm_mismatches_{slot}",
        metadata,
        Column("reconciliation_id", UuidType, nullable=False),
        Column("account", Text, nullable=False),
        Column("instrument", Text, nullable=False),
        Column("local_quantity", DecimalType, nullable=False),
        Column("broker_quantity", DecimalType, nullable=False),
        Column("difference", DecimalType, nullable=False),
        as_of_column(),
        PrimaryKeyConstraint("reconciliation_id", "account", "instrument"),
        ForeignKeyConstraint(
            ["reconciliation_id"], [f"rm_reconciliations_{slot}.id"], ondelete="CASCADE"
        ),
    )
