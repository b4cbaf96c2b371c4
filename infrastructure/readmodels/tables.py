"""The read-model tables: every projection's tables, twice (slots `a` and `b`).

Blue/green rebuild fills the inactive slot from the event log while queries
read the active one, then flips `rm_slots.active_slot` (see `control.py`).
Columns follow the GraphQL contract in snake_case; `as_of` on a row is the
sequence of the last event it reflects.
"""

from __future__ import annotations

from dataclasses import dataclass, fields

from sqlalchemy import Table

from infrastructure.readmodels.accounts import (
    account_holders_table,
    account_positions_table,
    account_specs_table,
    accounts_table,
    pnl_bars_table,
)
from infrastructure.readmodels.metadata import metadata
from infrastructure.readmodels.records import (
    mismatches_table,
    quotes_table,
    reconciliations_table,
)
from infrastructure.readmodels.trading import (
    monitors_table,
    orders_table,
    positions_table,
    signals_table,
    trades_table,
)

__all__ = ["PROJECTION_NAMES", "SLOTS", "ProjectionTables", "metadata", "projection_tables"]

SLOTS = ("a", "b")
PROJECTION_NAMES = (
    "positions",
    "signals",
    "orders",
    "trades",
    "monitors",
    "quotes",
    "reconciliations",
    "accounts",
)


@dataclass(frozen=True)
class ProjectionTables:
    """The tables of one slot."""

    slot: str
    positions: Table
    signals: Table
    orders: Table
    trades: Table
    monitors: Table
    quotes: Table
    reconciliations: Table
    mismatches: Table
    account_specs: Table
    account_positions: Table
    account_holders: Table
    accounts: Table
    pnl_bars: Table

    def all(self) -> tuple[Table, ...]:
        """Every table of this slot, parents before children."""
        return tuple(getattr(self, f.name) for f in fields(self) if f.name != "slot")

    def of(self, projection: str) -> tuple[Table, ...]:
        """The tables one projection writes (`PROJECTION_NAMES`), parents first."""
        by_projection = {
            "reconciliations": (self.reconciliations, self.mismatches),
            "accounts": (
                self.account_specs,
                self.account_positions,
                self.account_holders,
                self.accounts,
                self.pnl_bars,
            ),
        }
        if projection in by_projection:
            return by_projection[projection]
        if projection not in PROJECTION_NAMES:
            raise ValueError(f"unknown projection {projection!r}; known: {PROJECTION_NAMES}")
        return (getattr(self, projection),)


def _build(slot: str) -> ProjectionTables:
    return ProjectionTables(
        slot=slot,
        positions=positions_table(slot),
        signals=signals_table(slot),
        orders=orders_table(slot),
        trades=trades_table(slot),
        monitors=monitors_table(slot),
        quotes=quotes_table(slot),
        reconciliations=reconciliations_table(slot),
        mismatches=mismatches_table(slot),
        account_specs=account_specs_table(slot),
        account_positions=account_positions_table(slot),
        account_holders=account_holders_table(slot),
        accounts=accounts_table(slot),
        pnl_bars=pnl_bars_table(slot),
    )


# Tables are declared once, when the schema module loads; `projection_tables`
# hands out the same objects every time.
_BY_SLOT = {slot: _build(slot) for slot in SLOTS}


def projection_tables(slot: str) -> ProjectionTables:
    """The tables of slot `a` or `b`."""
    try:
        return _BY_SLOT[slot]
    except KeyError:
        raise ValueError(f"unknown slot {slot!r}; slots are {SLOTS}") from None
