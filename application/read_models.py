"""The read-model port: the queries the interfaces (API, CLI) ask of the projected read
models, and the records they answer. Infrastructure implements it
(`infrastructure.readmodels.queries.ReadModels`, with `AccountReads` as its
`accounts`); the composition root hands the implementation to the interfaces, which
know only this port (ADR 022).

Rows are dicts keyed by column name (snake_case): decimals are Decimal, date-times
aware, ids UUID. Every row carries `as_of`, the sequence of the last event it
reflects. Nothing here replays events; every query reads the projection's active
slot (blue/green, `rm_slots`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol
from uuid import UUID

Row = dict[str, Any]

# The records each query answers (column names; see infrastructure/readmodels for types).
#: id, account, instrument, quantity, average_price, realized_pnl, status, opened_at,
#: updated_at, as_of; and market_price, never written (None): a position is priced
#: by its instrument's quote (`last`), its P&L by `domain.valuation.unrealized_pnl`.
PositionRow = Row
#: id, client_order_id, account, instrument, side, type, quantity, limit_price, status,
#: filled_quantity, average_fill_price, signal_id, reject_reason, created_at, updated_at, as_of
OrderRow = Row
#: id, strategy, instrument, side, strength, quantity, status, reason, order_id,
#: created_at, updated_at, expires_at, as_of
SignalRow = Row
#: id, account, instrument, stop_loss, take_profit, trailing_distance, high_water_mark, status,
#: trigger_reason, trigger_price, exit_order_id, created_at, updated_at, as_of
MonitorRow = Row
#: fill_id, order_id, account, instrument, side, quantity, price, commission,
#: realized_pnl, timestamp, sequence, as_of
TradeRow = Row
#: instrument, last, bid, ask, volume, timestamp, as_of
QuoteRow = Row
#: id, policy, started_at, completed_at, corrected, as_of, and `mismatches`: rows of
#: account, instrument, local_quantity, broker_quantity, difference
ReconciliationRow = Row
#: account, currency (None where no spec named one), places, realized_pnl,
#: unrealized_pnl, total_pnl, commission_paid, today_pnl, session_open, gross_exposure,
#: net_exposure, open_positions, updated_at, as_of
AccountRow = Row
#: account, currency, start, open, high, low, close, as_of
PnlBarRow = Row
#: (projection name, active slot, generation, applied sequence or None), per projection
Version = tuple[Any, ...]


@dataclass(frozen=True)
class Mark:
    """How far a reader of one table has read: the slot and generation it read and the
    highest `as_of` it saw there."""

    slot: str
    generation: int
    as_of: int


@dataclass(frozen=True)
class Changes:
    """Rows of one table written since a `Mark` (all rows when `complete`), and the
    mark to ask from next."""

    rows: list[Row]
    complete: bool
    mark: Mark


@dataclass(frozen=True)
class AccountChanges:
    """The accounts whose totals or bars were written past `since`, and where to ask
    from next: (slot, generation, highest `as_of` seen). `complete` when `since` was
    None or of another slot or generation (a rebuild): every answer is then stale."""

    accounts: frozenset[str]
    complete: bool
    mark: tuple[str, int, int]


class AccountQueries(Protocol):
    """The accounts projection: totals per (account, currency) and P&L bars."""

    def changes(self, since: tuple[str, int, int] | None) -> AccountChanges: ...

    def accounts(self, since: datetime, account: str | None = None) -> list[AccountRow]:
        """Totals in (account, currency) order, with today's P&L since `since`."""
        ...

    def bars(
        self,
        account: str,
        start: datetime,
        end: datetime,
        currency: str | None = None,
        seconds: int = 60,
        limit: int = 1000,
    ) -> list[PnlBarRow]:
        """Bars of `seconds` in [start, end), in time order per currency."""
        ...


class ReadModelQueries(Protocol):
    """Every read of the read models the interfaces make."""

    @property
    def accounts(self) -> AccountQueries: ...

    @property
    def followable(self) -> frozenset[str]:
        """The read models whose changes can be followed across processes (every table
        has `as_of`); a subscription to any other is refused, never silently skipped."""
        ...

    def ping(self) -> None:
        """Raise unless the read models' database answers."""
        ...

    def version(self, projections: Sequence[str]) -> Version:
        """Where the read models of `projections` stand: unchanged while their rows are."""
        ...

    def tracked_at(self, projection: str) -> datetime | None:
        """When the active slot's tracking of `projection` last moved (None: never)."""
        ...

    def changes(self, projection: str, table: str, since: Mark | None) -> Changes:
        """The rows of `table` of `projection` written after `since` (all when None or
        the slot changed since)."""
        ...

    def rows_after(
        self, projection: str, table: str, cursor: tuple[Any, ...], limit: int
    ) -> list[Row]:
        """Up to `limit` rows of `table` past `cursor`, in (`as_of`, key) order."""
        ...

    def page_cursor(self, table: str, row: Row) -> tuple[Any, ...]: ...

    def positions(
        self, status: str | None = None, account: str | None = None
    ) -> list[PositionRow]: ...

    def position(self, account: str, instrument: str) -> PositionRow | None: ...

    def signals(
        self, status: str | None = None, instrument: str | None = None, limit: int = 100
    ) -> list[SignalRow]: ...

    def signal(self, signal_id: UUID) -> SignalRow | None: ...

    def orders(
        self, status: str | None = None, instrument: str | None = None, limit: int = 100
    ) -> list[OrderRow]: ...

    def order(self, order_id: UUID) -> OrderRow | None: ...

    def trades(self, instrument: str | None = None, limit: int = 100) -> list[TradeRow]: ...

    def monitors(self, status: str | None = None) -> list[MonitorRow]: ...

    def monitor(self, monitor_id: UUID) -> MonitorRow | None: ...

    def quotes(self, instruments: Sequence[str] | None = None) -> list[QuoteRow]: ...

    def reconciliations(self, limit: int = 20) -> list[ReconciliationRow]: ...

    def reconciliation(self, reconciliation_id: UUID) -> ReconciliationRow | None: ...
