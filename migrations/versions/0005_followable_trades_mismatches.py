"""`as_of` on trades and mismatches, so the change watcher can follow them (issue 16).

Revision ID: 0005
Revises: 0003
Create Date: 2026-11-29

Existing rows are stamped with what they reflect: a trade its fill's sequence, a
mismatch its run's `as_of` (the run's last event; at or after the mismatch's own).
Batch mode, so SQLite rebuilds the tables to drop the temporary server default.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

SLOTS = ("a", "b")


def _add_as_of(table: str) -> None:
    op.add_column(table, sa.Column("as_of", sa.BigInteger(), nullable=False, server_default="0"))


def upgrade() -> None:
    for slot in SLOTS:
        trades, mismatches = f"rm_trades_{slot}", f"rm_mismatches_{slot}"
        runs = f"rm_reconciliations_{slot}"
        _add_as_of(trades)
        _add_as_of(mismatches)
        op.execute(f"UPDATE {trades} SET as_of = sequence")
        op.execute(
            f"UPDATE {mismatches} SET as_of = (SELECT r.as_of FROM {runs} r "
            f"WHERE r.id = {mismatches}.reconciliation_id)"
        )
        for table in (trades, mismatches):
            with op.batch_alter_table(table) as batch:
                batch.alter_column("as_of", server_default=None)
        op.create_index(op.f(f"ix_{trades}_as_of"), trades, ["as_of"])


def downgrade() -> None:
    for slot in reversed(SLOTS):
        trades, mismatches = f"rm_trades_{slot}", f"rm_mismatches_{slot}"
        op.drop_index(op.f(f"ix_{trades}_as_of"), table_name=trades)
        for table in (mismatches, trades):
            with op.batch_alter_table(table) as batch:
                batch.drop_column("as_of")
