"""Pure arithmetic of the accounts projection: a position's value at a mark, and
one P&L bar moved by a new total. Money is rounded as the broker books it."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any, NamedTuple

from domain.money import CONTEXT, ZERO, round_money

Row = dict[str, Any]


class Value(NamedTuple):
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
    unrealized = ZERO
    if mark is not None and average is not None:
        moved = CONTEXT.multiply(CONTEXT.subtract(mark, average), quantity)
        unrealized = round_money(CONTEXT.multiply(moved, multiplier), places)
    # Half-even rounding is symmetric about zero: rounding |net| is |rounded net|.
    return Value(unrealized, CONTEXT.abs(net), net)


def minute_of(when: datetime) -> datetime:
    return when.replace(second=0, microsecond=0)


def moved_bar(
    bar: Row | None, key: tuple[str, str, datetime], before: Decimal, after: Decimal, sequence: int
) -> Row:
    """The bar of `key` after the total moved from `before` to `after`: a new bar
    opens at the total it starts from, so consecutive bars join up."""
    if bar is None:
        account, currency, start = key
        return {
            "account": account,
            "currency": currency,
            "start": start,
            "open": before,
            "high": max(before, after),
            "low": min(before, after),
            "close": after,
            "as_of": sequence,
        }
    return {
        **bar,
        "high": max(bar["high"], after),
        "low": min(bar["low"], after),
        "close": after,
        "as_of": sequence,
    }
