"""A position's value at a mark, and account P&L (SPEC sections 3 and 13): the one
place this money maths is done. Every step in `money.CONTEXT` (80 digits): the
default context's 28 digits would round products of 18+18-digit sizes and prices.
Amounts are rounded as the broker books them (`round_money`)."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from decimal import Decimal
from typing import NamedTuple

from domain.money import CONTEXT, NO_SPEC_PLACES, ZERO, round_money, tidy

ONE = Decimal(1)


def unrealized_pnl(
    quantity: Decimal,
    average: Decimal | None,
    mark: Decimal | None,
    multiplier: Decimal = ONE,
    places: int = NO_SPEC_PLACES,
) -> Decimal | None:
    """(mark − average) × quantity × multiplier, rounded to the currency's places;
    None when flat or not priced (no mark yet, or no average)."""
    if mark is None or average is None or quantity == 0:
        return None
    moved = CONTEXT.multiply(CONTEXT.subtract(mark, average), quantity)
    if multiplier != ONE:
        moved = CONTEXT.multiply(moved, multiplier)
    return round_money(moved, places)


class Value(NamedTuple):
    """What an open position adds to its account's totals."""

    unrealized: Decimal
    gross: Decimal
    net: Decimal


NOTHING = Value(ZERO, ZERO, ZERO)


def value(
    quantity: Decimal,
    average: Decimal | None,
    mark: Decimal | None,
    multiplier: Decimal,
    places: int,
) -> Value:
    """Unrealized P&L at `mark` and the exposure at `mark` (at the average price
    until the instrument has a quote), each rounded to the currency's places."""
    if quantity == 0:
        return NOTHING
    price = mark if mark is not None else average
    if price is None:  # a quantity set by reconciliation, never priced
        return NOTHING
    net = round_money(CONTEXT.multiply(CONTEXT.multiply(quantity, price), multiplier), places)
    unrealized = unrealized_pnl(quantity, average, mark, multiplier, places)
    # Half-even rounding is symmetric about zero: rounding |net| is |rounded net|.
    return Value(ZERO if unrealized is None else unrealized, CONTEXT.abs(net), net)


def total_pnl(realized: Decimal, unrealized: Decimal) -> Decimal:
    """An account's total P&L, exact (its parts are already rounded)."""
    return CONTEXT.add(realized, unrealized)


def today_pnl(total: Decimal, session_open: Decimal | None) -> Decimal:
    """The total's move since the session opened (at 0 when nothing was booked before)."""
    return tidy(CONTEXT.subtract(total, ZERO if session_open is None else session_open))


def session_start(now: datetime, start: time) -> datetime:
    """The start of the trading session `now` lies in, sessions starting at `start` UTC."""
    now = now.astimezone(UTC)
    begins = datetime.combine(now.date(), start, tzinfo=UTC)
    return begins if begins <= now else begins - timedelta(days=1)
