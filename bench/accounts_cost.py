"""What the accounts projection costs the command path: order + fill commands (and a
quote batch every 10) with every projection running, against the same with every
projection but `accounts`, in alternating rounds on fresh databases (issue 16:
the command path loses at most 10 %)."""

from __future__ import annotations

import statistics
import time
from decimal import Decimal

from application.inputs import FillInput, OrderInput, QuoteInput
from application.projections import ALL_PROJECTIONS
from application.projections.accounts import AccountsProjection
from bench.context import Run
from bench.databases import scratch
from bench.report import Figure, slower
from infrastructure.projections.group import ProjectionGroup
from infrastructure.settings import load_settings
from interfaces.composition import build_system

MAX_LOSS = 0.10
ROUNDS = 3


def commands_per_second(url: str, orders: int, with_accounts: bool) -> float:
    system = build_system(load_settings(database_url=url))
    app = system.commands
    kinds = ALL_PROJECTIONS if with_accounts else tuple(
        p for p in ALL_PROJECTIONS if p is not AccountsProjection
    )  # fmt: skip
    group = ProjectionGroup(system.engine, app.store.recorder, app.store.mapper, projections=kinds)
    group.start()
    started = time.perf_counter()
    for i in range(orders):
        instrument = f"I{i % 20}"
        placed = app.orders.place_order(
            OrderInput(client_order_id=f"b{i}", instrument=instrument,
                       side="BUY" if i % 3 else "SELL", quantity=Decimal(2), account=f"A{i % 5}")
        )  # fmt: skip
        app.orders.record_fill(
            FillInput(order_id=placed.order.id, fill_id=f"bf{i}", quantity=Decimal(2),
                      price=Decimal("100.25") + Decimal(i % 40) / 100, commission=Decimal("0.1"))
        )  # fmt: skip
        if i % 10 == 9:
            app.quotes.ingest_quotes(
                [QuoteInput(f"I{n}", Decimal("100") + Decimal(i % 50) / 100) for n in range(20)]
            )
    elapsed = time.perf_counter() - started
    caught_up = group.wait_for_blocking(group.names, app.store.head_sequence(), 120)
    group.stop()
    system.close()
    if not caught_up:
        raise RuntimeError("projections did not catch up")
    return orders / elapsed


def run(context: Run) -> list[Figure]:
    figures = []
    for engine in context.engines:
        orders = context.size(1500 if engine == "sqlite" else 800, 40)
        with_: list[float] = []
        without: list[float] = []
        for _ in range(context.size(ROUNDS, 1)):
            for accounts, into in ((False, without), (True, with_)):
                with scratch(engine, context.postgres_url) as url:
                    into.append(commands_per_second(url, orders, accounts))
        ours, baseline = statistics.median(with_), statistics.median(without)
        ratio = slower(ours, baseline)
        figures.append(
            Figure(
                scenario="accounts_cost",
                engine=engine,
                figure="order+fill, every projection running",
                value=ours,
                unit="cmd/s",
                target=f"ratio ≤ {1 + MAX_LOSS:.2f}",
                baseline=baseline,
                baseline_label="without accounts cmd/s",
                ratio=ratio,
                passed=ratio <= 1 + MAX_LOSS,
                note=f"{orders} commands (+ 20 quotes every 10), 5 accounts; median of "
                f"{len(with_)} rounds (with {', '.join(f'{r:,.0f}' for r in with_)}; "
                f"without {', '.join(f'{r:,.0f}' for r in without)})",
            )
        )
    return figures
