"""Tables of the accounts projection (SPEC section 13): account totals per
(account, currency), 1-minute P&L bars, and the working rows behind them (each
position's mark and currency, the positions holding an instrument, the specs
in force). `currency` is "" where no spec names one (the API serves null).

Each function declares one slot's table on `metadata` (`@slotted`: the builder of
the table of that name); `tables.py` calls it once per slot for the projection
that declares the table.
"""

from __future__ import annotations

from sqlalchemy import Column, Integer, PrimaryKeyConstraint, Table, Text

from infrastructure.readmodels.metadata import as_of_column, metadata, slotted
from infrastructure.sqltypes import DecimalType, UtcDateTime, UuidType


@slotted
def account_specs_table(slot: str) -> Table:
    return Table(
        f"rm_account_specs_{slot}",
        metadata,
        Column("name", Text, primary_key=True),
        Column("specs", Text, nullable=False),  # JSON: the InstrumentSpecs rows in force
        as_of_column(),
    )


@slotted
def account_positions_table(slot: str) -> Table:
    return Table(
        f"rm_account_positions_{slot}",
        metadata,
        Column("id", UuidType, primary_key=True),
        Column("account", Text, nullable=False),
        Column("instrument", Text, nullable=False),
        Column("currency", Text, nullable=False),
        Column("places", Integer, nullable=False),
        Column("multiplier", DecimalType, nullable=False),
        Column("quantity", DecimalType, nullable=False),
        Column("average_price", DecimalType),
        Column("mark", DecimalType),
        Column("unrealized_pnl", DecimalType, nullable=False),
        Column("gross_exposure", DecimalType, nullable=False),
        Column("net_exposure", DecimalType, nullable=False),
        as_of_column(),
    )


@slotted
def account_holders_table(slot: str) -> Table:
    return Table(
        f"rm_account_holders_{slot}",
        metadata,
        Column("instrument", Text, primary_key=True),
        Column("positions", Text, nullable=False),  # ids of the open positions, space-separated
        Column("mark", DecimalType),  # the instrument's latest price
        as_of_column(),
    )


@slotted
def accounts_table(slot: str) -> Table:
    return Table(
        f"rm_accounts_{slot}",
        metadata,
        Column("account", Text, nullable=False),
        Column("currency", Text, nullable=False),
        Column("places", Integer, nullable=False),
        Column("realized_pnl", DecimalType, nullable=False),
        Column("unrealized_pnl", DecimalType, nullable=False),
        Column("commission_paid", DecimalType, nullable=False),
        Column("gross_exposure", DecimalType, nullable=False),
        Column("net_exposure", DecimalType, nullable=False),
        Column("open_positions", Integer, nullable=False),
        Column("updated_at", UtcDateTime, nullable=False),
        as_of_column(),
        PrimaryKeyConstraint("account", "currency"),
    )


@slotted
def pnl_bars_table(slot: str) -> Table:
    return Table(
        f"rm_pnl_bars_{slot}",
        metadata,
        Column("account", Text, nullable=False),
        Column("currency", Text, nullable=False),
        Column("start", UtcDateTime, nullable=False),
        Column("open", DecimalType, nullable=False),
        Column("high", DecimalType, nullable=False),
        Column("low", DecimalType, nullable=False),
        Column("close", DecimalType, nullable=False),
        as_of_column(),
        PrimaryKeyConstraint("account", "currency", "start"),
    )
