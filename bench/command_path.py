"""Order + fill command path: commands/s through the command services, against a bare
eventsourcing Application saving the same events with the same grouping.

A fill touches the order, the fill and the position in one transaction; the
baseline replays exactly those events, one `save()` per command. Ours and the
baseline run in alternating rounds, each on a fresh database, and each side's
median round is reported: a burst of load on the machine then moves one round,
not the figure.
"""

from __future__ import annotations

import statistics
import time
from decimal import Decimal
from typing import Any
from uuid import UUID

from eventsourcing.application import Application

from application.inputs import FillInput, OrderInput
from bench.context import Run
from bench.databases import scratch
from bench.report import Figure, slower
from infrastructure.database import DatabaseUrl
from infrastructure.eventstore import event_store_env
from infrastructure.settings import load_settings
from interfaces.composition import build_system

TARGETS = {"sqlite": 2000.0, "postgres": 800.0}
MAX_RATIO = 1.5
ROUNDS = 3


def measure_commands(url: str, orders: int) -> tuple[float, list[list[Any]]]:
    """Commands/s, and the events each command appended (in order)."""
    system = build_system(load_settings(database_url=url))
    app = system.commands
    ends = []
    started = time.perf_counter()
    for i in range(orders):
        placed = app.orders.place_order(
            OrderInput(client_order_id=f"b{i}", instrument=f"I{i % 50}", side="BUY",
                       quantity=Decimal(2))
        )  # fmt: skip
        filled = app.orders.record_fill(
            FillInput(order_id=placed.order.id, fill_id=f"bf{i}", quantity=Decimal(2),
                      price=Decimal("100.25"))
        )  # fmt: skip
        ends += [placed.sequence, filled.sequence]
    elapsed = time.perf_counter() - started
    notifications = app.store.recorder.select_notifications(1, ends[-1] + 1)
    system.close()
    return len(ends) / elapsed, _group(app, notifications, ends)


def _group(app: Any, notifications: Any, ends: list[int]) -> list[list[Any]]:
    """Decode the notifications, grouped by the command that appended them."""
    groups: list[list[Any]] = [[] for _ in ends]
    index = 0
    for n in notifications:
        while n.id > ends[index]:
            index += 1
        groups[index].append(app.store.mapper.to_domain_event(n))
    return groups


def measure_raw(url: str, groups: list[list[Any]]) -> float:
    """Saves/s of a bare Application writing the same events, one save per command."""
    raw: Application[UUID] = Application(
        env=event_store_env(DatabaseUrl(url)) | {"IS_SNAPSHOTTING_ENABLED": "n"}
    )
    started = time.perf_counter()
    for group in groups:
        raw.save(*group)
    elapsed = time.perf_counter() - started
    raw.close()
    return len(groups) / elapsed


def run(context: Run) -> list[Figure]:
    figures = []
    for engine in context.engines:
        orders = context.size(2000 if engine == "sqlite" else 1000, 50)
        rounds, baselines = [], []
        for _ in range(context.size(ROUNDS, 1)):
            with scratch(engine, context.postgres_url) as ours_url:
                ours, groups = measure_commands(ours_url, orders)
            with scratch(engine, context.postgres_url) as raw_url:
                baselines.append(measure_raw(raw_url, groups))
            rounds.append(ours)
        ours, baseline = statistics.median(rounds), statistics.median(baselines)
        ratio = slower(ours, baseline)
        events = sum(len(g) for g in groups)
        figures.append(
            Figure(
                scenario="command_path",
                engine=engine,
                figure="order+fill",
                value=ours,
                unit="cmd/s",
                target=f"≥ {TARGETS[engine]:,.0f}/s, ratio ≤ {MAX_RATIO}",
                baseline=baseline,
                baseline_label="raw es saves/s",
                ratio=ratio,
                passed=ours >= TARGETS[engine] and ratio <= MAX_RATIO,
                note=f"{len(groups)} commands, {events} events; median of {len(rounds)} rounds "
                f"(ours {', '.join(f'{r:,.0f}' for r in rounds)}; "
                f"raw {', '.join(f'{b:,.0f}' for b in baselines)})",
            )
        )
    return figures
