"""The transparency log (RFC 9162 Merkle tree over the events) replaces the audit chain.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-29

Its tables are append-only, enforced by triggers as for the stored events, and
the rebuildable `rm_audit_chain_*` projection goes: a rebuild could recompute
it over altered events (ADR 014). The tree of a store that already holds
events is built from its log by `tradestate db upgrade` (or the first follower).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

TABLES = ("tl_leaves", "tl_nodes", "tl_heads", "tl_meta")
MESSAGE = "the transparency log is append-only"


def _create_tables() -> None:
    op.create_table(
        "tl_leaves",
        sa.Column("leaf_index", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("sequence", sa.BigInteger(), nullable=False),
        sa.Column("hash", sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint("leaf_index", name=op.f("pk_tl_leaves")),
        sa.UniqueConstraint("sequence", name=op.f("uq_tl_leaves_sequence")),
    )
    op.create_table(
        "tl_nodes",
        sa.Column("level", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("node_index", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("hash", sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint("level", "node_index", name=op.f("pk_tl_nodes")),
    )
    op.create_table(
        "tl_heads",
        sa.Column("tree_size", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("root", sa.LargeBinary(), nullable=False),
        sa.Column("timestamp_ms", sa.BigInteger(), nullable=False),
        sa.Column("signature", sa.LargeBinary(), nullable=True),
        sa.Column("key_id", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("tree_size", name=op.f("pk_tl_heads")),
    )
    op.create_table(
        "tl_meta",
        sa.Column("key", sa.Text(), nullable=False),
        sa.Column("value", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_tl_meta")),
    )


def _append_only() -> None:
    if op.get_bind().dialect.name == "sqlite":
        guard = f"SELECT RAISE(ABORT, '{MESSAGE}');"
        for table in TABLES:
            for action in ("update", "delete"):
                op.execute(
                    f"CREATE TRIGGER {table}_no_{action} BEFORE {action.upper()} ON {table} "
                    f"BEGIN {guard} END"
                )
        return
    op.execute(
        "CREATE OR REPLACE FUNCTION tl_append_only() RETURNS trigger LANGUAGE plpgsql "
        f"AS $$ BEGIN RAISE EXCEPTION '{MESSAGE}'; END $$"
    )
    for table in TABLES:
        op.execute(
            f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
            "FOR EACH STATEMENT EXECUTE FUNCTION tl_append_only()"
        )
        op.execute(
            f"CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table} "
            "FOR EACH STATEMENT EXECUTE FUNCTION tl_append_only()"
        )


def _log_head() -> int:
    """The last sequence of the event store, if it exists already (0 if not)."""
    bind = op.get_bind()
    sqlite = bind.dialect.name == "sqlite"
    table, column = ("stored_events", "rowid") if sqlite else ("tradestate_events", "notification_id")
    if not sa.inspect(bind).has_table(table):
        return 0
    return int(bind.execute(sa.text(f"SELECT MAX({column}) FROM {table}")).scalar() or 0)


def upgrade() -> None:
    for slot in ("a", "b"):
        op.drop_table(f"rm_audit_chain_{slot}")
    op.execute("DELETE FROM rm_slots WHERE name = 'audit'")
    op.execute("DELETE FROM rm_tracking WHERE name LIKE 'audit:%'")
    _create_tables()
    # Events already stored are added to the tree from the log, not witnessed.
    meta = sa.table("tl_meta", sa.column("key", sa.Text()), sa.column("value", sa.Text()))
    op.bulk_insert(meta, [{"key": "witnessed_from", "value": str(_log_head() + 1)}])
    _append_only()


def downgrade() -> None:
    if op.get_bind().dialect.name != "sqlite":
        for table in TABLES:
            op.execute(f"DROP TRIGGER IF EXISTS {table}_append_only ON {table}")
            op.execute(f"DROP TRIGGER IF EXISTS {table}_no_truncate ON {table}")
    for table in reversed(TABLES):
        op.drop_table(table)
    for slot in ("a", "b"):
        op.create_table(
            f"rm_audit_chain_{slot}",
            sa.Column("sequence", sa.BigInteger(), autoincrement=False, nullable=False),
            sa.Column("hash", sa.Text(), nullable=False),
            sa.PrimaryKeyConstraint("sequence", name=op.f(f"pk_rm_audit_chain_{slot}")),
        )
    op.execute("INSERT INTO rm_slots (name, active_slot, generation) VALUES ('audit', 'a', 0)")
