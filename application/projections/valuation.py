"""Pure arithmetic of the accounts projection: one P&L bar moved by a new total.
(A position's value at a mark is the domain's: `domain.valuation.value`.)"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

Row = dict[str, Any]


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
