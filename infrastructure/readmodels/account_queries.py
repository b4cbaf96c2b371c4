"""Reads of the accounts projection: totals per (account, currency), today's P&L
from the bars, and P&L bars (1 minute stored, longer intervals combined here)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import Engine, and_, func, select, type_coerce
from sqlalchemy.types import NullType

from domain.money import CONTEXT, ZERO, tidy
from infrastructure.readmodels.control import slots_table
from infrastructure.readmodels.tables import projection_tables

Row = dict[str, Any]


def session_start(now: datetime, start: time) -> datetime:
    """The start of the trading session `now` lies in, sessions starting at `start` UTC."""
    now = now.astimezone(UTC)
    begins = datetime.combine(now.date(), start, tzinfo=UTC)
    return begins if begins <= now else begins - timedelta(days=1)


def with_totals(row: Row) -> Row:
    """An accounts row with `total_pnl` and `today_pnl` (from its `session_open`), and
    `currency` None where no spec named one."""
    total = CONTEXT.add(row["realized_pnl"], row["unrealized_pnl"])
    opening = row.get("session_open")
    return {
        **row,
        "currency": row["currency"] or None,
        "total_pnl": tidy(total),
        "today_pnl": tidy(CONTEXT.subtract(total, ZERO if opening is None else opening)),
    }


def combined(bars: Sequence[Row], seconds: int) -> list[Row]:
    """1-minute bars (in time order per currency) merged into bars of `seconds`,
    aligned to the UTC epoch: first open, highest high, lowest low, last close."""
    merged: dict[tuple[str, datetime], Row] = {}
    for bar in bars:
        stamp = int(bar["start"].timestamp())
        start = datetime.fromtimestamp(stamp - stamp % seconds, tz=UTC)
        key = (bar["currency"], start)
        found = merged.get(key)
        if found is None:
            merged[key] = {**bar, "start": start}
        else:
            found["high"] = max(found["high"], bar["high"])
            found["low"] = min(found["low"], bar["low"])
            found["close"] = bar["close"]
            found["as_of"] = max(found["as_of"], bar["as_of"])
    return list(merged.values())


@dataclass(frozen=True)
class AccountChanges:
    """The accounts whose totals or bars were written past `since`, and where to ask
    from next: (slot, generation, highest `as_of` seen). `complete` when `since` was
    None or of another slot or generation (a rebuild): every answer is then stale."""

    accounts: frozenset[str]
    complete: bool
    mark: tuple[str, int, int]


class AccountReads:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def changes(self, since: tuple[str, int, int] | None) -> AccountChanges:
        """One statement per table: the distinct accounts of the rows past `since`'s
        `as_of` (no row is read when complete, only the highest `as_of`). A projection
        commits its events in order, so what these return covers every row up to the
        highest `as_of` they see."""
        with self.engine.connect() as connection:
            found = connection.execute(
                select(slots_table.c.active_slot, slots_table.c.generation).where(
                    slots_table.c.name == "accounts"
                )
            ).one_or_none()
            slot, generation = found if found is not None else ("a", 0)
            t = projection_tables(slot)
            complete = since is None or since[:2] != (slot, generation)
            low = 0 if complete or since is None else since[2]
            high, changed = low, set()
            for table in (t.accounts, t.pnl_bars):
                if complete:
                    top = connection.execute(select(func.max(table.c.as_of))).scalar()
                    high = max(high, top or 0)
                    continue
                statement = (
                    select(table.c.account, func.max(table.c.as_of))
                    .where(table.c.as_of > low)
                    .group_by(table.c.account)
                )
                for account, top in connection.execute(statement):
                    changed.add(account)
                    high = max(high, top)
        return AccountChanges(frozenset(changed), complete, (slot, generation, high))

    def _slot(self, connection: Any) -> Any:
        slot = connection.execute(
            select(slots_table.c.active_slot).where(slots_table.c.name == "accounts")
        ).scalar_one_or_none()
        return projection_tables(slot or "a")

    def accounts(self, since: datetime, account: str | None = None) -> list[Row]:
        """Totals rows in (account, currency) order, each with `session_open`: the total
        P&L at `since` (the close of the last bar before it; 0 when none)."""
        with self.engine.connect() as connection:
            t = self._slot(connection)
            accounts, bars = t.accounts, t.pnl_bars
            earlier = bars.alias("earlier")
            last_before = (
                select(func.max(earlier.c.start))
                .where(
                    earlier.c.account == accounts.c.account,
                    earlier.c.currency == accounts.c.currency,
                    earlier.c.start < since,
                )
                .correlate(accounts)
                .scalar_subquery()
            )
            statement = (
                select(accounts, bars.c.close.label("session_open"))
                .select_from(
                    accounts.outerjoin(
                        bars,
                        and_(
                            bars.c.account == accounts.c.account,
                            bars.c.currency == accounts.c.currency,
                            bars.c.start == last_before,
                        ),
                    )
                )
                .order_by(accounts.c.account, accounts.c.currency)
            )
            if account is not None:
                statement = statement.where(accounts.c.account == account)
            return [with_totals(dict(row._mapping)) for row in connection.execute(statement)]

    def bars(
        self,
        account: str,
        start: datetime,
        end: datetime,
        currency: str | None = None,
        seconds: int = 60,
        limit: int = 1000,
    ) -> list[Row]:
        """Bars of `seconds` from `start` (inclusive) to `end` (exclusive), in time
        order per currency, the first `limit`.

        Columns are read raw and converted here: the column types' own result
        processing cost ten times the database's work for a day of bars."""
        with self.engine.connect() as connection:
            bars = self._slot(connection).pnl_bars
            raw = [type_coerce(bars.c[name], NullType()).label(name) for name in BAR_COLUMNS]
            statement = select(*raw).where(
                bars.c.account == account, bars.c.start >= start, bars.c.start < end
            )
            if currency is not None:
                statement = statement.where(bars.c.currency == currency)
            statement = statement.order_by(bars.c.currency, bars.c.start)
            if seconds == 60:
                statement = statement.limit(limit)
            rows = [_bar(account, *row) for row in connection.execute(statement)]
        return rows if seconds == 60 else combined(rows, seconds)[:limit]


BAR_COLUMNS = ("currency", "start", "open", "high", "low", "close", "as_of")


def _number(value: Any) -> Decimal:
    return value if isinstance(value, Decimal) else Decimal(value)


def _utc(value: Any) -> datetime:
    if isinstance(value, str):  # SQLite: the UTC wall time as text
        return datetime.fromisoformat(value).replace(tzinfo=UTC)
    return value.astimezone(UTC)


def _bar(
    account: str, currency: str, start: Any, open_: Any, high: Any, low: Any, close: Any, as_of: int
) -> Row:
    return {
        "account": account,
        "currency": currency,
        "start": _utc(start),
        "open": _number(open_),
        "high": _number(high),
        "low": _number(low),
        "close": _number(close),
        "as_of": as_of,
    }
