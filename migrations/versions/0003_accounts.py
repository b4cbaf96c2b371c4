"""Accounts projection: account totals, P&L bars and their working tables, slots a and b.

Revision ID: 0003
Revises: 0001
Create Date: 2026-11-29

Written by hand with plain SQLAlchemy types, like 0001.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

SLOTS = ("a", "b")


def _decimal(name: str, nullable: bool = False) -> sa.Column:
    return sa.Column(name, sa.Numeric().with_variant(sa.Text(), "sqlite"), nullable=nullable)


def _text(name: str) -> sa.Column:
    return sa.Column(name, sa.Text(), nullable=False)


def _int(name: str) -> sa.Column:
    return sa.Column(name, sa.Integer(), nullable=False)


def _as_of() -> sa.Column:
    return sa.Column("as_of", sa.BigInteger(), nullable=False)


def _pk(table: str, *columns: str) -> sa.PrimaryKeyConstraint:
    return sa.PrimaryKeyConstraint(*columns, name=op.f(f"pk_{table}"))


def _account_specs(name: str) -> list[sa.SchemaItem]:
    return [_text("name"), _text("specs"), _as_of(), _pk(name, "name")]


def _account_positions(name: str) -> list[sa.SchemaItem]:
    return [
        sa.Column("id", sa.Uuid(), nullable=False),
        _text("account"),
        _text("instrument"),
        _text("currency"),
        _int("places"),
        _decimal("multiplier"),
        _decimal("quantity"),
        _decimal("average_price", True),
        _decimal("mark", True),
        _decimal("unrealized_pnl"),
        _decimal("gross_exposure"),
        _decimal("net_exposure"),
        _as_of(),
        _pk(name, "id"),
    ]


def _account_holders(name: str) -> list[sa.SchemaItem]:
    return [
        _text("instrument"), _text("positions"), _decimal("mark", True), _as_of(),
        _pk(name, "instrument"),
    ]


def _accounts(name: str) -> list[sa.SchemaItem]:
    return [
        _text("account"),
        _text("currency"),
        _int("places"),
        _decimal("realized_pnl"),
        _decimal("unrealized_pnl"),
        _decimal("commission_paid"),
        _decimal("gross_exposure"),
        _decimal("net_exposure"),
        _int("open_positions"),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        _as_of(),
        _pk(name, "account", "currency"),
    ]


def _pnl_bars(name: str) -> list[sa.SchemaItem]:
    return [
        _text("account"),
        _text("currency"),
        sa.Column("start", sa.DateTime(timezone=True), nullable=False),
        _decimal("open"),
        _decimal("high"),
        _decimal("low"),
        _decimal("close"),
        _as_of(),
        _pk(name, "account", "currency", "start"),
    ]


TABLES = {
    "account_specs": _account_specs,
    "account_positions": _account_positions,
    "account_holders": _account_holders,
    "accounts": _accounts,
    "pnl_bars": _pnl_bars,
}


def upgrade() -> None:
    for slot in SLOTS:
        for table, columns_of in TABLES.items():
            name = f"rm_{table}_{slot}"
            op.create_table(name, *columns_of(name))
    slots = sa.table(
        "rm_slots", sa.column("name"), sa.column("active_slot"), sa.column("generation")
    )
    op.bulk_insert(slots, [{"name": "accounts", "active_slot": "a", "generation": 0}])


def downgrade() -> None:
    op.execute("DELETE FROM rm_slots WHERE name = 'accounts'")
    for slot in reversed(SLOTS):
        for table in reversed(TABLES):
            op.drop_table(f"rm_{table}_{slot}")
