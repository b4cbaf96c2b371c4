"""Accounts (SPEC section 13): totals per (account, currency) and 1-minute bars of
total P&L, marked by fills and quotes.

Working rows: each position's currency, mark and value (`account_positions`), the
open positions of each instrument with its latest price (`account_holders`) and the
instrument specs in force (`account_specs`, from `InstrumentSpecs.Configured`, so
a replay to any sequence books by the specs of then). A position takes its
currency and multiplier when it opens. Totals change by differences of rounded
values, so they stay sums of what is shown, with no tail. Bars are keyed by the
minute of the event's timestamp (when it was recorded), so a rebuild writes the
same rows.
"""

from __future__ import annotations

import json
from decimal import Decimal
from functools import singledispatchmethod
from typing import Any
from uuid import UUID

from application.projections.base import Projection, Row, RowStore
from application.projections.valuation import minute_of, moved_bar
from domain.instruments import InstrumentSpec, InstrumentSpecs, SpecTable
from domain.money import CONTEXT, ZERO
from domain.positions import Position
from domain.quotes import Quotes
from domain.valuation import NOTHING, Value, total_pnl, value

SPECS_KEY = "current"


class AccountsProjection(Projection):
    name = "accounts"
    tables = ("account_specs", "account_positions", "account_holders", "accounts", "pnl_bars")

    @singledispatchmethod
    def apply(self, event: object, sequence: int, store: RowStore) -> None:
        """Other events change no account."""

    def __init__(self) -> None:
        self._specs: tuple[str, SpecTable] = ("[]", SpecTable())
        self._specs_of: RowStore | None = None  # the batch whose specs `_specs` holds
        self._ids: dict[str, UUID] = {}

    @apply.register
    def specs_configured(
        self, e: InstrumentSpecs.Configured, sequence: int, store: RowStore
    ) -> None:
        text = json.dumps(e.specs, sort_keys=True)
        store.put("account_specs", SPECS_KEY, {"name": SPECS_KEY, "specs": text, "as_of": sequence})
        self._specs_of = None

    def _spec(self, store: RowStore, instrument: str) -> InstrumentSpec:
        """The spec in force, read once per batch (`store`): a store without specs
        would otherwise cost a query at every position that opens."""
        if store is not self._specs_of:
            row = store.get("account_specs", SPECS_KEY)
            text = "[]" if row is None else row["specs"]
            if text != self._specs[0]:
                self._specs = (text, SpecTable.from_rows(json.loads(text)))
            self._specs_of = store
        return self._specs[1].spec_for(instrument)

    @apply.register
    def opened(self, e: Position.Opened, sequence: int, store: RowStore) -> None:
        row = {
            "id": e.originator_id,
            "account": e.account,
            "instrument": e.instrument,
            "quantity": ZERO,
            "average_price": None,
            "mark": None,
            "unrealized_pnl": ZERO,
            "gross_exposure": ZERO,
            "net_exposure": ZERO,
            "as_of": sequence,
        }
        store.put("account_positions", e.originator_id, self._booking(store, row))

    def _booking(self, store: RowStore, row: Row) -> Row:
        """`row` with the currency, places and multiplier of the specs in force."""
        spec = self._spec(store, row["instrument"])
        return {
            **row,
            "currency": spec.currency or "",
            "places": spec.places,
            "multiplier": spec.multiplier,
        }

    @apply.register
    def filled(self, e: Position.FillApplied, sequence: int, store: RowStore) -> None:
        self._moved(e, sequence, store, e.realized_delta, e.commission)

    @apply.register
    def adjusted(self, e: Position.Adjusted, sequence: int, store: RowStore) -> None:
        self._moved(e, sequence, store, ZERO, ZERO)

    def _moved(
        self, e: Any, sequence: int, store: RowStore, realized: Decimal, commission: Decimal
    ) -> None:
        position = store.get_for_update("account_positions", e.originator_id)
        if position is None:
            raise LookupError(f"position {e.originator_id} is missing; the log is out of order")
        was_held = position["quantity"] != 0
        if not was_held:
            position.update(self._booking(store, position))
            position["mark"] = self._holders(store, position["instrument"])["mark"]
        was = _value_of(position)
        position["quantity"] = e.quantity_after
        position["average_price"] = e.average_price_after
        if was_held != (e.quantity_after != 0):
            self._hold(store, position, e.quantity_after != 0)
        bar_start = minute_of(e.timestamp)
        self._revalue(store, position, was, sequence, e.timestamp, bar_start, realized, commission)

    def _holders(self, store: RowStore, instrument: str) -> Row:
        found = store.get_for_update("account_holders", instrument)
        if found is None:
            found = {"instrument": instrument, "positions": "", "mark": None, "as_of": 0}
            store.put("account_holders", instrument, found)
        return found

    def _hold(self, store: RowStore, position: Row, held: bool) -> None:
        """Keep the instrument's list of open positions as the position opens or closes."""
        holders = self._holders(store, position["instrument"])
        ids = set(holders["positions"].split())
        (ids.add if held else ids.discard)(str(position["id"]))
        holders["positions"] = " ".join(sorted(ids))

    @apply.register
    def quoted(self, e: Quotes.Ingested, sequence: int, store: RowStore) -> None:
        when, bar_start = e.timestamp, minute_of(e.timestamp)
        for quote in e.quotes:
            instrument = quote[0]
            assert instrument is not None and quote[1] is not None
            mark = Decimal(quote[1])
            holders = self._holders(store, instrument)
            holders["mark"], holders["as_of"] = mark, sequence
            for held in holders["positions"].split():
                position = store.get_for_update("account_positions", self._id(held))
                if position is not None and position["mark"] != mark:
                    was = _value_of(position)
                    position["mark"] = mark
                    self._revalue(store, position, was, sequence, when, bar_start, ZERO, ZERO)

    def _id(self, text: str) -> UUID:
        found = self._ids.get(text)
        if found is None:
            if len(self._ids) > 100_000:
                self._ids.clear()
            found = self._ids[text] = UUID(text)
        return found

    def _revalue(
        self,
        store: RowStore,
        position: Row,
        was: Value,
        sequence: int,
        when: Any,
        bar_start: Any,
        realized: Decimal,
        commission: Decimal,
    ) -> None:
        """Value the position (changed in place) and move its account's totals and bar."""
        places = position["places"]
        now = value(
            position["quantity"],
            position["average_price"],
            position["mark"],
            position["multiplier"],
            places,
        )
        unrealized, gross, net = now
        position["unrealized_pnl"], position["gross_exposure"], position["net_exposure"] = now
        position["as_of"] = sequence
        key = (position["account"], position["currency"])
        account = store.get_for_update("accounts", key)
        if account is None:
            account = _new_account(key, places)
            store.put("accounts", key, account)
        realized_total, unrealized_total = account["realized_pnl"], account["unrealized_pnl"]
        before = total_pnl(realized_total, unrealized_total)
        account["places"] = places
        if realized:
            account["realized_pnl"] = realized_total = CONTEXT.add(realized_total, realized)
        if commission:
            account["commission_paid"] = CONTEXT.add(account["commission_paid"], commission)
        moved = was.unrealized != unrealized
        if moved:
            account["unrealized_pnl"] = unrealized_total = _shift(
                unrealized_total, was.unrealized, unrealized
            )
        if was.gross != gross:
            account["gross_exposure"] = _shift(account["gross_exposure"], was.gross, gross)
        if was.net != net:
            account["net_exposure"] = _shift(account["net_exposure"], was.net, net)
        # `_value_of` gives NOTHING exactly for a flat position.
        account["open_positions"] += (position["quantity"] != 0) - (was is not NOTHING)
        account["updated_at"], account["as_of"] = when, sequence
        after = total_pnl(realized_total, unrealized_total) if realized or moved else before
        bar_key = (*key, bar_start)
        bar = store.get_for_update("pnl_bars", bar_key)
        if bar is None:
            store.put("pnl_bars", bar_key, moved_bar(None, bar_key, before, after, sequence))
        else:  # the batch's own copy (`get_for_update`), moved in place as `moved_bar` moves it
            if after > bar["high"]:
                bar["high"] = after
            if after < bar["low"]:
                bar["low"] = after
            bar["close"], bar["as_of"] = after, sequence


def _value_of(row: Row) -> Value:
    if row["quantity"] == 0:
        return NOTHING
    return Value(row["unrealized_pnl"], row["gross_exposure"], row["net_exposure"])


def _new_account(key: tuple[str, str], places: int) -> Row:
    return {
        "account": key[0],
        "currency": key[1],
        "places": places,
        "realized_pnl": ZERO,
        "unrealized_pnl": ZERO,
        "commission_paid": ZERO,
        "gross_exposure": ZERO,
        "net_exposure": ZERO,
        "open_positions": 0,
    }


def _shift(total: Decimal, was: Decimal, now: Decimal) -> Decimal:
    """`total` with `was` replaced by `now` (which differ)."""
    return CONTEXT.add(CONTEXT.subtract(total, was), now)
