"""Account totals equal a fold of the fills and quotes by an independent oracle
(SPEC section 13), over several currencies, partial closes and flips through
zero; and money booked at a fill never shows a tail past its currency's places."""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal as D

from hypothesis import given
from hypothesis import strategies as st

from application.inputs import FillInput, OrderInput, QuoteInput
from application.projections.accounts import AccountsProjection
from domain.positions import net_fill
from domain.values import Side
from infrastructure.instruments import InstrumentSetting
from infrastructure.projections.runner import ProjectionRunner
from infrastructure.readmodels.account_queries import AccountReads
from tests.property import oracle
from tests.property.budget import share
from tests.property.fills import wide_amounts, wide_commissions
from tests.property.oracle import EXACT, Book
from tests.property.stores import sqlite_system

# instrument -> (currency or None, places, multiplier)
BOOKING = {"ACME": ("USD", 2, D(1)), "BOLT": ("JPY", 0, D(10)), "ZED": (None, 8, D(1))}
SPECS = {
    "ACME": InstrumentSetting(currency="USD"),
    "BO*": InstrumentSetting(currency="JPY", multiplier=D(10)),
}
ACCOUNTS = ("default", "acct-2")

prices = st.decimals(min_value=D("0.001"), max_value=D(2000), places=3)
sizes = st.one_of(st.sampled_from([D(1), D(2), D(5)]), st.decimals(D("0.01"), D(50), places=2))
fill = st.tuples(
    st.just("fill"),
    st.sampled_from(ACCOUNTS),
    st.sampled_from(tuple(BOOKING)),
    st.sampled_from(("BUY", "SELL")),
    sizes,
    prices,
    st.decimals(min_value=0, max_value=5, places=3),
)
quote = st.tuples(st.just("quote"), st.sampled_from(tuple(BOOKING)), prices)
steps = st.lists(st.one_of(fill, fill, quote), min_size=1, max_size=20)


def expected_totals(moves):
    """The oracle: books per (account, instrument), marks per instrument, folded."""
    books: dict[tuple[str, str], Book] = defaultdict(Book)
    marks: dict[str, D] = {}
    paid: dict[tuple[str, str | None], D] = defaultdict(D)
    for move in moves:
        if move[0] == "quote":
            marks[move[1]] = move[2]
            continue
        _, account, instrument, side, size, price, commission = move
        currency, places, multiplier = BOOKING[instrument]
        key = (account, instrument)
        books[key] = oracle.apply(books[key], side, size, price, commission, places, multiplier)
        paid[(account, currency)] += oracle.booked(commission, places)
    totals: dict[tuple[str, str | None], dict[str, D]] = {}
    for (account, instrument), book in books.items():
        currency, places, multiplier = BOOKING[instrument]
        row = totals.setdefault(
            (account, currency),
            dict.fromkeys(("realized", "unrealized", "gross", "net", "open"), D(0)),
        )
        row["realized"] += book.realized
        if book.quantity == 0:
            continue
        row["open"] += 1
        mark = marks.get(instrument)
        price = mark if mark is not None else book.average
        net = EXACT.multiply(EXACT.multiply(book.quantity, price), multiplier)
        row["net"] += oracle.booked(net, places)
        row["gross"] += oracle.booked(net.copy_abs(), places)
        if mark is not None:
            moved = EXACT.multiply(EXACT.subtract(mark, book.average), book.quantity)
            row["unrealized"] += oracle.booked(EXACT.multiply(moved, multiplier), places)
    for key, row in totals.items():
        row["commission"] = paid[key]
    return totals


def run(app, moves):
    for n, move in enumerate(moves):
        if move[0] == "quote":
            app.quotes.ingest_quotes([QuoteInput(move[1], move[2])])
            continue
        _, account, instrument, side, size, price, commission = move
        order = app.orders.place_order(
            OrderInput(f"o{n}", instrument, side, size, account=account)
        ).order
        app.orders.record_fill(FillInput(order.id, f"f{n}", size, price, commission))


@share(0.15, store=True)
@given(steps, st.integers(1, 5))
def test_account_totals_equal_the_oracles_fold_of_fills_and_quotes(store_dir, moves, page):
    with sqlite_system(store_dir, {"instruments": SPECS}, record_specs=True) as system:
        run(system.commands, moves)
        args = (AccountsProjection, system.engine, system.app.recorder, system.app.mapper)
        ProjectionRunner(*args, page=page).catch_up()
        found = {
            (row["account"], row["currency"]): row
            for row in AccountReads(system.engine).accounts(since=system.app.clock())
        }
        expected = expected_totals(moves)
        assert set(found) == set(expected)
        for key, want in expected.items():
            row = found[key]
            got = (
                row["realized_pnl"],
                row["unrealized_pnl"],
                row["gross_exposure"],
                row["net_exposure"],
                row["commission_paid"],
                row["open_positions"],
            )
            assert got == (
                want["realized"],
                want["unrealized"],
                want["gross"],
                want["net"],
                want["commission"],
                want["open"],
            ), key
            assert row["total_pnl"] == want["realized"] + want["unrealized"]


def places_of(value: D) -> int:
    exponent = value.as_tuple().exponent
    assert isinstance(exponent, int)
    return max(0, -exponent)


@share(1.0)
@given(
    st.lists(
        st.tuples(st.sampled_from(("BUY", "SELL")), wide_amounts, wide_amounts, wide_commissions),
        min_size=1,
        max_size=12,
    ),
    st.sampled_from((0, 2, 3, 8)),
)
def test_money_booked_at_a_fill_has_no_tail_past_its_currencys_places(fills, places):
    quantity, average, realized = D(0), None, D(0)
    for side, size, price, commission in fills:
        result = net_fill(
            quantity, average, realized, Side(side), size, price, commission, places=places
        )
        assert places_of(result.realized_delta) <= places
        assert places_of(result.realized_pnl) <= places
        quantity, average, realized = result.quantity, result.average_price, result.realized_pnl
