"""Tables of the trading projections: positions, signals, orders, trades, monitors.

Each function declares one slot's table on `metadata` (`@slotted`: the builder of
the table of that name); `tables.py` calls it once per slot for the projection
that declares the table.
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, Table, Text, UniqueConstraint

from infrastructure.readmodels.metadata import as_of_column, metadata, slotted
from infrastructure.sqltypes import DecimalType, UtcDateTime, UuidType


@slotted
def positions_table(slot: str) -> Table:
    return Table(
        f"rm_positions_{slot}",
        metadata,
        Column("id", UuidType, primary_key=True),
        Column("account", Text, nullable=False),
        Column("instrument", Text, nullable=False),
        Column("quantity", DecimalType, nullable=False),
        Column("average_price", DecimalType),
        Column("realized_pnl", DecimalType, nullable=False),
        Column("market_price", DecimalType),
        Column("status", Text, nullable=False, index=True),
        Column("opened_at", UtcDateTime),
        Column("updated_at", UtcDateTime, nullable=False),
        as_of_column(),
        # One position per (account, instrument); also serves filters by account.
        UniqueConstraint("account", "instrument"),
    )


@slotted
def signals_table(slot: str) -> Table:
    return Table(
        f"rm_signals_{slot}",
        metadata,
        Column("id", UuidType, primary_key=True),
        Column("strategy", Text, nullable=False),
        Column("instrument", Text, nullable=False, index=True),
        Column("side", Text, nullable=False),
        Column("strength", DecimalType, nullable=False),
        Column("quantity", DecimalType),
        Column("status", Text, nullable=False, index=True),
        Column("reason", Text),
        Column("order_id", UuidType),
        Column("created_at", UtcDateTime, nullable=False, index=True),
        Column("updated_at", UtcDateTime, nullable=False),
        Column("expires_at", UtcDateTime),
        as_of_column(),
    )


@slotted
def orders_table(slot: str) -> Table:
    return Table(
        f"rm_orders_{slot}",
        metadata,
        Column("id", UuidType, primary_key=True),
        Column("client_order_id", Text, nullable=False, unique=True),
        Column("account", Text, nullable=False),
        Column("instrument", Text, nullable=False, index=True),
        Column("side", Text, nullable=False),
        Column("type", Text, nullable=False),
        Column("quantity", DecimalType, nullable=False),
        Column("limit_price", DecimalType),
        Column("status", Text, nullable=False, index=True),
        Column("filled_quantity", DecimalType, nullable=False),
        Column("average_fill_price", DecimalType),
        Column("signal_id", UuidType),
        Column("reject_reason", Text),
        Column("created_at", UtcDateTime, nullable=False, index=True),
        Column("updated_at", UtcDateTime, nullable=False),
        as_of_column(),
    )


@slotted
def trades_table(slot: str) -> Table:
    return Table(
        f"rm_trades_{slot}",
        metadata,
        Column("fill_id", Text, primary_key=True),
        Column("order_id", UuidType, nullable=False),
        Column("account", Text, nullable=False),
        Column("instrument", Text, nullable=False, index=True),
        Column("side", Text, nullable=False),
        Column("quantity", DecimalType, nullable=False),
        Column("price", DecimalType, nullable=False),
        Column("commission", DecimalType, nullable=False),
        Column("realized_pnl", DecimalType, nullable=False),
        Column("timestamp", UtcDateTime, nullable=False),
        Column("sequence", BigInteger, nullable=False, index=True),
        Column("as_of", BigInteger, nullable=False, index=True),
    )


@slotted
def monitors_table(slot: str) -> Table:
    return Table(
        f"rm_monitors_{slot}",
        metadata,
        Column("id", UuidType, primary_key=True),
        Column("account", Text, nullable=False),
        Column("instrument", Text, nullable=False, index=True),
        Column("stop_loss", DecimalType),
        Column("take_profit", DecimalType),
        Column("trailing_distance", DecimalType),
        Column("high_water_mark", DecimalType),
        Column("status", Text, nullable=False, index=True),
        Column("trigger_reason", Text),
        Column("trigger_price", DecimalType),
        Column("exit_order_id", UuidType),
        Column("created_at", UtcDateTime, nullable=False),
        Column("updated_at", UtcDateTime, nullable=False),
        as_of_column(),
    )
