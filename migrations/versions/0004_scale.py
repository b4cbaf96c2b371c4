"""Cost that does not grow with the log: compatibility watermark, checkpoints, indexes.

Revision ID: 0004
Revises: 0001
Create Date: 2026-11-29

`rm_compat_kinds` + `rm_compat_watermark`: the kinds of events seen up to a
sequence, so the start-up check reads only the events after it.
`rm_checkpoints` + `rm_checkpoint_parts`: the state time travel starts from,
every K events, in parts of a few thousand rows, with the time range of the
events since the previous one (indexed by `min_time`).
Indexes for `orders(instrument:|status:)` and `trades(instrument:)`, newest
first, so they read only the rows they return.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

SLOTS = ("a", "b")
INDEXES = {
    "orders": (("instrument", "created_at"), ("status", "created_at")),
    "trades": (("instrument", "sequence"),),
}


def upgrade() -> None:
    op.create_table(
        "rm_compat_kinds",
        sa.Column("topic", sa.Text(), nullable=False),
        sa.Column("class_version", sa.Integer(), nullable=False),
        sa.Column("events", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("topic", "class_version", name=op.f("pk_rm_compat_kinds")),
    )
    op.create_table(
        "rm_compat_watermark",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("sequence", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_rm_compat_watermark")),
    )
    op.create_table(
        "rm_checkpoints",
        sa.Column("sequence", sa.BigInteger(), nullable=False),
        sa.Column("min_time", sa.DateTime(timezone=True), nullable=False),
        sa.Column("max_time", sa.DateTime(timezone=True), nullable=False),
        sa.Column("digest", sa.Text(), nullable=False),
        sa.Column("parts", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("sequence", name=op.f("pk_rm_checkpoints")),
    )
    op.create_table(
        "rm_checkpoint_parts",
        sa.Column("sequence", sa.BigInteger(), nullable=False),
        sa.Column("part", sa.Integer(), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint("sequence", "part", name=op.f("pk_rm_checkpoint_parts")),
    )
    op.create_index(op.f("ix_rm_checkpoints_min_time"), "rm_checkpoints", ["min_time"])
    for slot in SLOTS:
        for table, indexes in INDEXES.items():
            name = f"rm_{table}_{slot}"
            for columns in indexes:
                op.create_index(op.f(f"ix_{name}_{'_'.join(columns)}"), name, list(columns))


def downgrade() -> None:
    for slot in SLOTS:
        for table, indexes in INDEXES.items():
            name = f"rm_{table}_{slot}"
            for columns in indexes:
                op.drop_index(op.f(f"ix_{name}_{'_'.join(columns)}"), table_name=name)
    op.drop_index(op.f("ix_rm_checkpoints_min_time"), table_name="rm_checkpoints")
    op.drop_table("rm_checkpoint_parts")
    op.drop_table("rm_checkpoints")
    op.drop_table("rm_compat_watermark")
    op.drop_table("rm_compat_kinds")
