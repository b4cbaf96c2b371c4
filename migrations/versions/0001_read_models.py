"""Read models: every projection's tables in slots a and b, rm_slots, rm_tracking.

Revision ID: 0001
Revises:
Create Date: 2024-11-24

Written by hand with plain SQLAlchemy types so that it never changes when the
application's types do: DecimalType is NUMERIC (TEXT on SQLite), UtcDateTime
is TIMESTAMP WITH TIME ZONE (DATETIME on SQLite), ids are UUID (CHAR(32) on
SQLite).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

SLOTS = ("a", "b")
PROJECTION_NAMES = (
    "positions",
    "signals",
    "orders",
    "trades",
    "monitors",
    "quotes",
    "reconciliations",
    "audit",
)


def _decimal(name: str, nullable: bool = False) -> sa.Column:
    return sa.Column(name, sa.Numeric().with_variant(sa.Text(), "sqlite"), nullable=nullable)


def _time(name: str, nullable: bool = False) -> sa.Column:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def _text(name: str, nullable: bool = False) -> sa.Column:
    return sa.Column(name, sa.Text(), nullable=nullable)


def _uuid(name: str, nullable: bool = False) -> sa.Column:
    return sa.Column(name, sa.Uuid(), nullable=nullable)


def _as_of() -> sa.Column:
    return sa.Column("as_of", sa.BigInteger(), nullable=False)


def _pk(table: str, *columns: str) -> sa.PrimaryKeyConstraint:
    return sa.PrimaryKeyConstraint(*columns, name=op.f(f"pk_{table}"))


def _positions(slot: str) -> list[sa.SchemaItem]:
    return [
        _uuid("id"), _text("account"), _text("instrument"), _decimal("quantity"),
        _decimal("average_price", True), _decimal("realized_pnl"),
        _decimal("market_price", True), _text("status"), _time("opened_at", True),
        _time("updated_at"), _as_of(),
        _pk(f"rm_positions_{slot}", "id"),
        sa.UniqueConstraint(
            "account", "instrument", name=op.f(f"uq_rm_positions_{slot}_account_instrument")
        ),
    ]


def _signals(slot: str) -> list[sa.SchemaItem]:
    return [
        _uuid("id"), _text("strategy"), _text("instrument"), _text("side"),
        _decimal("strength"), _decimal("quantity", True), _text("status"),
        _text("reason", True), _uuid("order_id", True), _time("created_at"),
        _time("updated_at"), _time("expires_at", True), _as_of(),
        _pk(f"rm_signals_{slot}", "id"),
    ]


def _orders(slot: str) -> list[sa.SchemaItem]:
    return [
        _uuid("id"), _text("client_order_id"), _text("account"), _text("instrument"),
        _text("side"), _text("type"), _decimal("quantity"), _decimal("limit_price", True),
        _text("status"), _decimal("filled_quantity"), _decimal("average_fill_price", True),
        _uuid("signal_id", True), _text("reject_reason", True), _time("created_at"),
        _time("updated_at"), _as_of(),
        _pk(f"rm_orders_{slot}", "id"),
        sa.UniqueConstraint("client_order_id", name=op.f(f"uq_rm_orders_{slot}_client_order_id")),
    ]


def _trades(slot: str) -> list[sa.SchemaItem]:
    return [
        _text("fill_id"), _uuid("order_id"), _text("account"), _text("instrument"),
        _text("side"), _decimal("quantity"), _decimal("price"), _decimal("commission"),
        _decimal("realized_pnl"), _time("timestamp"),
        sa.Column("sequence", sa.BigInteger(), nullable=False),
        _pk(f"rm_trades_{slot}", "fill_id"),
    ]


def _monitors(slot: str) -> list[sa.SchemaItem]:
    return [
        _uuid("id"), _text("account"), _text("instrument"), _decimal("stop_loss", True),
        _decimal("take_profit", True), _decimal("trailing_distance", True),
        _decimal("high_water_mark", True), _text("status"), _text("trigger_reason", True),
        _decimal("trigger_price", True), _uuid("exit_order_id", True),
        _time("created_at"), _time("updated_at"), _as_of(),
        _pk(f"rm_monitors_{slot}", "id"),
    ]


def _quotes(slot: str) -> list[sa.SchemaItem]:
    return [
        _text("instrument"), _decimal("last"), _decimal("bid", True), _decimal("ask", True),
        _decimal("volume", True), _time("timestamp"), _as_of(),
        _pk(f"rm_quotes_{slot}", "instrument"),
    ]


def _reconciliations(slot: str) -> list[sa.SchemaItem]:
    return [
        _uuid("id"), _text("policy"), _time("started_at"), _time("completed_at", True),
        sa.Column("corrected", sa.Boolean(), nullable=False), _as_of(),
        _pk(f"rm_reconciliations_{slot}", "id"),
    ]


def _mismatches(slot: str) -> list[sa.SchemaItem]:
    parent = f"rm_reconciliations_{slot}"
    return [
        _uuid("reconciliation_id"), _text("account"), _text("instrument"),
        _decimal("local_quantity"), _decimal("broker_quantity"), _decimal("difference"),
        _pk(f"rm_mismatches_{slot}", "reconciliation_id", "account", "instrument"),
        sa.ForeignKeyConstraint(
            ["reconciliation_id"],
            [f"{parent}.id"],
            name=op.f(f"fk_rm_mismatches_{slot}_reconciliation_id_{parent}"),
            ondelete="CASCADE",
        ),
    ]


def _audit_chain(slot: str) -> list[sa.SchemaItem]:
    return [
        sa.Column("sequence", sa.BigInteger(), autoincrement=False, nullable=False),
        _text("hash"),
        _pk(f"rm_audit_chain_{slot}", "sequence"),
    ]


# table -> (columns and constraints, indexed columns); parents before children.
TABLES = {
    "positions": (_positions, (("status",),)),
    "signals": (_signals, (("status",), ("instrument",), ("created_at",))),
    "orders": (_orders, (("status",), ("instrument",), ("created_at",))),
    "trades": (_trades, (("instrument",), ("sequence",))),
    "monitors": (_monitors, (("status",), ("instrument",))),
    "quotes": (_quotes, ()),
    "reconciliations": (_reconciliations, (("started_at",),)),
    "mismatches": (_mismatches, ()),
    "audit_chain": (_audit_chain, ()),
}


def upgrade() -> None:
    for slot in SLOTS:
        for table, (columns_of, indexes) in TABLES.items():
            name = f"rm_{table}_{slot}"
            op.create_table(name, *columns_of(slot))
            for columns in indexes:
                op.create_index(op.f(f"ix_{name}_{'_'.join(columns)}"), name, list(columns))
    slots = op.create_table(
        "rm_slots",
        _text("name"),
        _text("active_slot"),
        sa.Column("generation", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_rm_slots")),
        sa.CheckConstraint("active_slot IN ('a', 'b')", name=op.f("ck_rm_slots_active_slot")),
    )
    op.create_table(
        "rm_tracking",
        _text("name"),
        sa.Column("notification_id", sa.BigInteger(), nullable=False),
        _text("error", True),
        sa.Column("error_sequence", sa.BigInteger(), nullable=True),
        _time("updated_at"),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_rm_tracking")),
    )
    op.bulk_insert(
        slots, [{"name": name, "active_slot": "a", "generation": 0} for name in PROJECTION_NAMES]
    )


def downgrade() -> None:
    op.drop_table("rm_tracking")
    op.drop_table("rm_slots")
    for slot in reversed(SLOTS):
        for table in reversed(TABLES):
            op.drop_table(f"rm_{table}_{slot}")
