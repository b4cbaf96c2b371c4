"""Fill sequences for the position properties, and a driver that runs them
through the application while the oracle keeps the expected books."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from decimal import Decimal as D
from functools import reduce

import pytest
from eventsourcing.application import LRUCache
from hypothesis import strategies as st

from application.commands import Commands
from application.inputs import FillInput, OrderInput
from application.results import FillResult
from domain.errors import Conflict
from domain.ids import position_id
from domain.positions import Position
from tests.property import oracle
from tests.property.oracle import EXACT, Book

ACCOUNTS = ("default", "acct-2")
INSTRUMENTS = ("ACME", "BOLT", "X.Y/Z:1")
Key = tuple[str, str]


def amounts(places: int, top: int, nice: tuple[str, ...]) -> st.SearchStrategy[D]:
    """Positive decimals: round figures (so positions often close exactly) and arbitrary ones."""
    step = D(1).scaleb(-places)
    arbitrary = st.decimals(min_value=step, max_value=EXACT.subtract(D(top), step), places=places)
    return st.one_of(st.sampled_from([D(n) for n in nice]), arbitrary) if nice else arbitrary


ROUND = ("1", "2", "5", "10", "0.5", "2.5", "0.25")
quantities = amounts(6, 10**6, ROUND)
prices = amounts(4, 10**6, ("90", "100", "105", "110", "120", "99.99"))
commissions = st.one_of(st.just(D(0)), st.decimals(min_value=0, max_value=100, places=4))
# The input rules' extremes: 18 digits before and after the point.
BIG = ("100000000000000000", "999999999999999999", "0.000000000000000001")
wide_amounts = st.one_of(
    st.sampled_from([D(n) for n in ROUND + BIG]), quantities, amounts(18, 10**18, ())
)
wide_commissions = st.one_of(commissions, amounts(18, 10**18, ("0",)))


@dataclass(frozen=True)
class Order:
    """An order and its fills. With `closing`, its one fill takes the side opposite
    the position and `closing` times its size (1: flat, 2: the mirror position)."""

    account: str
    instrument: str
    side: str
    fills: tuple[tuple[D, D, D], ...]
    unfilled: D
    closing: int | None

    @property
    def key(self) -> Key:
        return (self.account, self.instrument)

    def resolved(self, book: Book) -> tuple[str, tuple[tuple[D, D, D], ...]]:
        """The side and fills to send, given the position as the oracle has it."""
        if self.closing is None or book.quantity == 0:
            return self.side, self.fills
        side = "SELL" if book.quantity > 0 else "BUY"
        _, price, commission = self.fills[0]
        return side, (
            (EXACT.multiply(book.quantity.copy_abs(), D(self.closing)), price, commission),
        )


@dataclass(frozen=True)
class Repeat:
    """Record an earlier fill again: on its own order it applies once; on another
    order it is a conflict. Either way nothing is appended."""

    index: int
    other_order: bool


Step = Order | Repeat


def orders(amount, price, commission) -> st.SearchStrategy[Order]:
    fill = st.tuples(amount, price, commission)
    return st.builds(
        Order,
        account=st.sampled_from(ACCOUNTS),
        instrument=st.sampled_from(INSTRUMENTS),
        side=st.sampled_from(("BUY", "SELL")),
        fills=st.lists(fill, min_size=1, max_size=3).map(tuple),
        unfilled=st.sampled_from((D(0), D(0), D(1), D("0.5"))),
        closing=st.one_of(st.none(), st.none(), st.sampled_from((1, 2))),
    )


def order_steps(amount=quantities, commission=commissions) -> st.SearchStrategy[list[Step]]:
    """Orders on a few accounts and instruments, with repeated fills among them."""
    order = orders(amount, prices, commission)
    repeat = st.builds(Repeat, index=st.integers(0, 50), other_order=st.booleans())
    return st.lists(st.one_of(order, order, order, repeat), min_size=1, max_size=12)


# Sizes with all 18 decimals and up to 34 significant digits, small enough that a
# position stays within the input rules.
long_sizes = st.decimals(min_value=10**10, max_value=10**16, places=18)
wide_steps = order_steps(st.one_of(amounts(18, 10**16, ROUND), long_sizes), wide_commissions)


@dataclass
class Expected:
    """What the oracle says, per (account, instrument), after running the steps."""

    books: dict[Key, Book]
    fills: dict[Key, list[tuple[str, D, D, D]]]


def run_steps(
    app: Commands,
    steps_: list[Step],
    each: Callable[[int], object] = lambda n: None,
) -> Expected:
    """Place and fill through the commands, checking each result against the oracle."""
    expected = Expected({}, {})
    recorded: list[tuple[FillInput, FillResult]] = []
    for n, step in enumerate(steps_):
        if isinstance(step, Repeat):
            _repeat(app, step, recorded)
            each(n)
            continue
        book = expected.books.get(step.key, Book())
        side, fills = step.resolved(book)
        total = reduce(EXACT.add, (q for q, _, _ in fills), step.unfilled)
        order = app.orders.place_order(
            OrderInput(
                client_order_id=f"order-{n}",
                account=step.account,
                instrument=step.instrument,
                side=side,
                quantity=total,
            )
        ).order
        for i, (quantity, price, commission) in enumerate(fills):
            fill = FillInput(order.id, f"fill-{n}-{i}", quantity, price, commission)
            result = app.orders.record_fill(fill)
            after = oracle.apply(book, side, quantity, price, commission)
            assert result.appended
            assert result.fill.realized_pnl == EXACT.subtract(after.realized, book.realized)
            assert_position(result.position, after)
            recorded.append((fill, result))
            expected.fills.setdefault(step.key, []).append((side, quantity, price, commission))
            book = after
        expected.books[step.key] = book
        each(n)
    return expected


def _repeat(app: Commands, step: Repeat, recorded: list[tuple[FillInput, FillResult]]) -> None:
    if not recorded:
        return
    fill, first = recorded[step.index % len(recorded)]
    head = app.store.head_sequence()
    position: Position = app.store.repository.get(first.position.id)
    if step.other_order:
        others = [f.order_id for f, _ in recorded if f.order_id != fill.order_id]
        if not others:
            return
        with pytest.raises(Conflict):
            app.orders.record_fill(replace(fill, order_id=others[0]))
    else:
        again = app.orders.record_fill(fill)
        assert not again.appended
        assert again.fill.id == first.fill.id
        assert again.fill.realized_pnl == first.fill.realized_pnl
    assert app.store.head_sequence() == head
    after: Position = app.store.repository.get(first.position.id)
    assert (after.version, after.quantity, after.realized_pnl) == (
        position.version,
        position.quantity,
        position.realized_pnl,
    )


def assert_position(position: Position, book: Book) -> None:
    assert (position.quantity, position.average_price, position.realized_pnl) == (
        book.quantity,
        book.average,
        book.realized,
    )
    assert position.status.value == book.status


def positions_of(app: Commands, expected: Expected) -> dict[Key, Position]:
    cache = app.store.repository.cache
    if cache is not None:
        assert isinstance(cache, LRUCache)  # the store's cache is bounded (the only kind to clear)
        cache.clear()
    return {key: app.store.repository.get(position_id(*key)) for key in expected.books}
