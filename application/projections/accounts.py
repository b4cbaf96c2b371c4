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
from typing import Any
from uuid import UUID

from application.projections.base import Projection, Row, RowStore
from application.projections.valuation import NOTHING, Value, minute_of, moved_bar, value
from domain.instruments import InstrumentSpec, InstrumentSpecs, SpecTable
from domain.money import CONTEXT, ZERO
from domain.positions import Position
from domain.quotes import Quotes

SPECS_KEY = "current"


class AccountsProjection(Projection):
    name = "accounts"
    tables = ("account_specs", "account_positions", "account_holders", "accounts", "pnl_bars")
    handlers = {
        InstrumentSpecs.Configured: "specs_configured",
        Position.Opened: "opened",
        Position.FillApplied: "filled",
        Position.Adjusted: "adjusted",
        Quotes.Ingested: "quoted",
    }

    def __init__(self) -> None:
        self._specs: tuple[str, SpecTable] = ("[]", SpecTable())

    def specs_configured(
        self, e: InstrumentSpecs.Configured, sequence: int, store: RowStore
    ) -> None:
        text = json.dumps(e.specs, sort_keys=True)
        store.put("account_specs", SPECS_KEY, {"name": SPECS_KEY, "specs": text, "as_of": sequence})

    def _spec(self, store: RowStore, instrument: str) -> InstrumentSpec:
        row = store.get("account_specs", SPECS_KEY)
        text = "[]" if row is None else row["specs"]
        if text != self._specs[0]:
            self._specs = (text, SpecTable.from_rows(json.loads(text)))
        return self._specs[1].spec_for(instrument)

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

    def filled(self, e: Position.FillApplied, sequence: int, store: RowStore) -> None:
        self._moved(e, sequence, store, e.realized_delta, e.commission)

    def adjusted(self, e: Position.Adjusted, sequence: int, store: RowStore) -> None:
        self._moved(e, sequence, store, ZERO, ZERO)

    def _moved(
        self, e: Any, sequence: int, store: RowStore, realized: Decimal, commission: Decimal
    ) -> None:
        old = store.get("account_positions", e.originator_id)
        if old is None:
            raise LookupError(f"position {e.originator_id} is missing; the log is out of order")
        if old["quantity"] == 0:
            old = self._booking(store, old)
            old["mark"] = self._holders(store, old["instrument"])["mark"]
        new = {
            **old,
            "quantity": e.quantity_after,
            "average_price": e.average_price_after,
            "as_of": sequence,
        }
        self._hold(store, new, (old["quantity"] != 0, e.quantity_after != 0), sequence)
        self._revalue(store, old, new, sequence, e.timestamp, realized, commission)

    def _holders(self, store: RowStore, instrument: str) -> Row:
        return store.get("account_holders", instrument) or {
            "instrument": instrument,
            "positions": "",
            "mark": None,
            "as_of": 0,
        }

    def _hold(self, store: RowStore, row: Row, held: tuple[bool, bool], sequence: int) -> None:
        """Keep the instrument's list of open positions as the position opens or closes."""
        if held[0] == held[1]:
            return
        holders = self._holders(store, row["instrument"])
        ids = set(holders["positions"].split())
        (ids.add if held[1] else ids.discard)(str(row["id"]))
        positions = " ".join(sorted(ids))
        store.put("account_holders", row["instrument"], {**holders, "positions": positions})

    def quoted(self, e: Quotes.Ingested, sequence: int, store: RowStore) -> None:
        for quote in e.quotes:
            instrument = quote[0]
            assert instrument is not None and quote[1] is not None
            mark = Decimal(quote[1])
            holders = self._holders(store, instrument)
            store.put("account_holders", instrument, {**holders, "mark": mark, "as_of": sequence})
            for position in holders["positions"].split():
                old = store.get("account_positions", UUID(position))
                if old is not None and old["mark"] != mark:
                    new = {**old, "mark": mark, "as_of": sequence}
                    self._revalue(store, old, new, sequence, e.timestamp, ZERO, ZERO)

    def _revalue(
        self,
        store: RowStore,
        old: Row,
        new: Row,
        sequence: int,
        when: Any,
        realized: Decimal,
        commission: Decimal,
    ) -> None:
        """Write the position at its new value and move its account's totals and bar."""
        places = new["places"]
        was = _value_of(old)
        now = value(new["quantity"], new["average_price"], new["mark"], new["multiplier"], places)
        new["unrealized_pnl"], new["gross_exposure"], new["net_exposure"] = now
        store.put("account_positions", new["id"], new)
        key = (new["account"], new["currency"])
        account = store.get("accounts", key) or _new_account(key, places)
        before = _total(account)
        opened = (new["quantity"] != 0) - (old["quantity"] != 0)
        account = {
            **account,
            "places": places,
            "realized_pnl": _add(account["realized_pnl"], realized),
            "commission_paid": _add(account["commission_paid"], commission),
            "unrealized_pnl": _moved(account["unrealized_pnl"], was.unrealized, now.unrealized),
            "gross_exposure": _moved(account["gross_exposure"], was.gross, now.gross),
            "net_exposure": _moved(account["net_exposure"], was.net, now.net),
            "open_positions": account["open_positions"] + opened,
            "updated_at": when,
            "as_of": sequence,
        }
        store.put("accounts", key, account)
        bar_key = (*key, minute_of(when))
        bar = store.get("pnl_bars", bar_key)
        store.put("pnl_bars", bar_key, moved_bar(bar, bar_key, before, _total(account), sequence))


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


def _add(total: Decimal, amount: Decimal) -> Decimal:
    return CONTEXT.add(total, amount) if amount else total


def _moved(total: Decimal, was: Decimal, now: Decimal) -> Decimal:
    return total if was == now else CONTEXT.add(CONTEXT.subtract(total, was), now)


def _total(account: Row) -> Decimal:
    return CONTEXT.add(account["realized_pnl"], account["unrealized_pnl"])
