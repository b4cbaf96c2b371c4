"""Arbitrary command sequences over every command kind, for the replay properties.

Commands refer to earlier orders, signals and monitors by index (modulo how
many exist), so any generated sequence runs; a command the domain refuses
appends nothing and is simply part of the sequence.
"""

from __future__ import annotations

from contextlib import suppress
from dataclasses import dataclass
from decimal import Decimal as D
from typing import Any

from hypothesis import strategies as st

from application.commands import Commands
from application.inputs import FillInput, MonitorInput, OrderInput, QuoteInput, SignalInput
from domain.errors import DomainError
from domain.orders import Order

INSTRUMENTS = ("ACME", "BOLT")
ACCOUNTS = ("default", "acct-2")
SIDES = ("BUY", "SELL")

sizes = st.sampled_from([D("1"), D("2"), D("0.5"), D("2.5"), D("10"), D("0.001")])
marks = st.sampled_from([D("90"), D("95.5"), D("100"), D("104.25"), D("110")])
fees = st.sampled_from([D(0), D("0.1"), D(1)])
index = st.integers(0, 20)


@dataclass(frozen=True)
class Command:
    """One command: `kind` names the method, `args` its arguments (indices resolved later)."""

    kind: str
    args: tuple[Any, ...]


def command(kind: str, *args: st.SearchStrategy[Any]) -> st.SearchStrategy[Command]:
    return st.tuples(*args).map(lambda values: Command(kind, values))


any_command = st.one_of(
    command("quote", st.sampled_from(INSTRUMENTS), marks),
    command(
        "order",
        st.sampled_from(ACCOUNTS),
        st.sampled_from(INSTRUMENTS),
        st.sampled_from(SIDES),
        sizes,
        st.one_of(st.none(), marks),
    ),
    command("fill", index, st.sampled_from([D(1), D("0.5")]), marks, fees),
    command("fill", index, st.sampled_from([D(1), D("0.5")]), marks, fees),
    command("refill", index),
    command("cancel_order", index),
    command(
        "signal",
        st.sampled_from(INSTRUMENTS),
        st.sampled_from(SIDES),
        st.sampled_from([D(0), D("0.35"), D(1)]),
        st.one_of(st.none(), sizes),
    ),
    command("accept", index, st.one_of(st.none(), sizes)),
    command("reject", index),
    command("cancel_signal", index),
    command(
        "arm",
        st.sampled_from(ACCOUNTS),
        st.sampled_from(INSTRUMENTS),
        st.one_of(st.none(), marks),
        st.one_of(st.none(), marks),
        st.one_of(st.none(), st.sampled_from([D(1), D(5)])),
    ),
    command("evaluate", index, marks),
    command("reconcile", st.sampled_from(["ALERT", "AUTO_CORRECT"])),
)
command_lists = st.lists(any_command, min_size=1, max_size=20)


class FixedBroker:
    """A broker book that differs from most generated positions (so runs find mismatches)."""

    def positions(self) -> dict[tuple[str, str], D]:
        return {("default", "ACME"): D(3), ("acct-2", "BOLT"): D(-1)}


class Runner:
    """Runs commands against an application, remembering what indices refer to."""

    def __init__(self, app: Commands) -> None:
        self.app = app
        self.orders: list[Any] = []
        self.fills: list[FillInput] = []
        self.signals: list[Any] = []
        self.monitors: list[Any] = []

    def run(self, number: int, step: Command) -> None:
        with suppress(DomainError):  # refused: appends nothing
            getattr(self, f"_{step.kind}")(number, *step.args)

    @staticmethod
    def _pick(items: list[Any], i: int) -> Any:
        if not items:
            raise DomainError("nothing to act on yet")
        return items[i % len(items)]

    def _quote(self, n: int, instrument: str, last: D) -> None:
        self.app.quotes.ingest_quotes([QuoteInput(instrument, last, bid=last - 1, ask=last + 1)])

    def _order(
        self, n: int, account: str, instrument: str, side: str, size: D, limit: D | None
    ) -> None:
        kind = "MARKET" if limit is None else "LIMIT"
        spec = OrderInput(f"c-{n}", instrument, side, size, account, kind, limit)
        self.orders.append(self.app.orders.place_order(spec).order.id)

    def _fill(self, n: int, i: int, share: D, price: D, fee: D) -> None:
        order: Order = self.app.store.repository.get(self._pick(self.orders, i))
        quantity = order.remaining * share
        if quantity <= 0:
            return
        fill = FillInput(order.id, f"f-{n}", quantity, price, fee)
        self.app.orders.record_fill(fill)
        self.fills.append(fill)

    def _refill(self, n: int, i: int) -> None:
        self.app.orders.record_fill(self._pick(self.fills, i))

    def _cancel_order(self, n: int, i: int) -> None:
        self.app.orders.cancel_order(self._pick(self.orders, i), "changed my mind")

    def _signal(self, n: int, instrument: str, side: str, strength: D, size: D | None) -> None:
        spec = SignalInput("prop", instrument, side, strength, size)
        self.signals.append(self.app.signals.generate_signal(spec).signal.id)

    def _accept(self, n: int, i: int, size: D | None) -> None:
        result = self.app.signals.accept_signal(self._pick(self.signals, i), size)
        if result.order is not None:
            self.orders.append(result.order.id)

    def _reject(self, n: int, i: int) -> None:
        self.app.signals.reject_signal(self._pick(self.signals, i), "risk")

    def _cancel_signal(self, n: int, i: int) -> None:
        self.app.signals.cancel_signal(self._pick(self.signals, i))

    def _arm(
        self, n: int, account: str, instrument: str, stop: D | None, take: D | None, trail: D | None
    ) -> None:
        spec = MonitorInput(instrument, account, stop, take, trail)
        self.monitors.append(self.app.monitors.arm_monitor(spec).monitor.id)

    def _evaluate(self, n: int, i: int, last: D) -> None:
        result = self.app.monitors.evaluate_monitor(self._pick(self.monitors, i), last)
        if result is not None and result.exit_order is not None:
            self.orders.append(result.exit_order.id)

    def _reconcile(self, n: int, policy: str) -> None:
        self.app.reconciliation.reconcile(policy)
