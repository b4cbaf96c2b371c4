"""The answer to `positions`, held in this process and brought up to date from the rows
written since the last query, instead of read and converted again in full.

Dashboards poll `positions`; every quote moves some position's market price, so a
cache that drops everything on any change rereads and converts every row after each
quote (~25 ms for 1 000 positions). Here each query asks the read models only for
the position and quote rows whose `as_of` is past what this view has seen
(`ReadModelQueries.changes`: a scan of each table that returns the few changed rows),
rebuilds the objects of the positions they touch, and hands out the same immutable
objects for the rest, so their completed selections are reused too
(`execution.remember_completions`). A rebuild's slot flip starts over from all rows.

Ordering is by (account, instrument) in code-point order on both engines.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from decimal import Decimal

from application.read_models import Changes, Mark, ReadModelQueries, Row
from domain.money import NO_SPEC_PLACES
from interfaces.api import convert, types
from interfaces.api.execution import remember_completions

#: Distinct (status, account) filters whose answers are kept until the next change.
MAX_ANSWERS = 64

Key = tuple[str, str]


class PositionsView:
    """Positions with their market prices, as of the last call. Thread-safe: queries
    run in worker threads. Answers are shared: callers must not change them."""

    def __init__(
        self, read: ReadModelQueries, places: Callable[[str], int] = lambda _: NO_SPEC_PLACES
    ) -> None:
        self._read = read
        self._places = places
        self._lock = threading.Lock()
        self._positions_mark: Mark | None = None
        self._quotes_mark: Mark | None = None
        self._rows: dict[Key, Row] = {}
        self._prices: dict[str, Decimal | None] = {}
        self._objects: dict[Key, types.Position] = {}
        self._order: list[Key] = []
        self._ordered: list[tuple[Row, types.Position]] = []
        self._answers: dict[tuple[str | None, str | None], list[types.Position]] = {}

    def positions(
        self, status: str | None = None, account: str | None = None
    ) -> list[types.Position]:
        with self._lock:
            self._catch_up()
            key = (status, account)
            answer = self._answers.get(key)
            if answer is None:
                if len(self._answers) >= MAX_ANSWERS:
                    self._answers.clear()
                answer = self._answers[key] = [
                    position
                    for row, position in self._ordered
                    if (status is None or row["status"] == status)
                    and (account is None or row["account"] == account)
                ]
            return answer

    def _catch_up(self) -> None:
        positions = self._read.changes("positions", "positions", self._positions_mark)
        quotes = self._read.changes("quotes", "quotes", self._quotes_mark)
        self._positions_mark, self._quotes_mark = positions.mark, quotes.mark
        if not (positions.rows or positions.complete or quotes.rows or quotes.complete):
            return
        touched = self._take_positions(positions)
        moved = self._take_prices(quotes)
        if quotes.complete:
            touched = set(self._rows)
        elif moved:
            touched.update(key for key, row in self._rows.items() if row["instrument"] in moved)
        if positions.complete or not touched <= self._objects.keys():
            self._order = sorted(self._rows)
        for key in touched:
            row = self._rows[key]
            instrument = row["instrument"]
            position = convert.position(row, self._prices.get(instrument), self._places(instrument))
            self._objects[key] = remember_completions(position)
        self._ordered = [(self._rows[key], self._objects[key]) for key in self._order]
        self._answers.clear()

    def _take_positions(self, changes: Changes) -> set[Key]:
        if changes.complete:
            self._rows.clear()
            self._objects.clear()
        touched = set()
        for row in changes.rows:
            key = (row["account"], row["instrument"])
            self._rows[key] = row
            touched.add(key)
        return touched

    def _take_prices(self, changes: Changes) -> set[str]:
        if changes.complete:
            self._prices.clear()
        moved = set()
        for row in changes.rows:
            instrument = row["instrument"]
            if instrument not in self._prices or self._prices[instrument] != row["last"]:
                self._prices[instrument] = row["last"]
                moved.add(instrument)
        return moved
