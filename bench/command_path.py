"""Order + fill command path: commands/s, against raw eventsourcing saves of the same events.

python -m bench.command_path [--db URL] [--orders N]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from decimal import Decimal

from eventsourcing.application import Application

from application.inputs import FillInput, OrderInput
from infrastructure.database import DatabaseUrl
from infrastructure.eventstore import event_store_env
from infrastructure.settings import load_settings
from interfaces.composition import build_system


def measure_commands(url: str, orders: int) -> tuple[float, list]:
    system = build_system(load_settings(database_url=url), migrate=False)
    app = system.app
    started = time.perf_counter()
    for i in range(orders):
        order = app.place_order(
            OrderInput(
                client_order_id=f"b{i}", instrument=f"I{i % 50}", side="BUY", quantity=Decimal(2)
            )
        ).order
        app.record_fill(
            FillInput(
                order_id=order.id, fill_id=f"bf{i}", quantity=Decimal(2), price=Decimal("100.25")
            )
        )
    elapsed = time.perf_counter() - started
    events = [app.mapper.to_domain_event(n) for n in app.recorder.select_notifications(0, 10**7)]
    system.close()
    return 2 * orders / elapsed, events


def measure_raw(url: str, events: list, orders: int) -> float:
    """Save the same events with a bare Application: one save per command."""
    raw = Application(env=event_store_env(DatabaseUrl(url)) | {"IS_SNAPSHOTTING_ENABLED": "n"})
    groups, current, last_version = [], [], {}
    for event in events:  # a command is an order's Placed, or a fill's 3–4 events
        if type(event).__name__ == "Placed" and current:
            groups.append(current)
            current = []
        current.append(event)
        last_version[event.originator_id] = event.originator_version
    groups.append(current)
    fills_split = []
    for group in groups:
        fills_split.append(group[:1])
        if len(group) > 1:
            fills_split.append(group[1:])
    started = time.perf_counter()
    for group in fills_split:
        raw.save(*group)
    elapsed = time.perf_counter() - started
    raw.close()
    return len(fills_split) / elapsed


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--db")
    parser.add_argument("--orders", type=int, default=1000)
    args = parser.parse_args()
    tmp = tempfile.mkdtemp()
    url = args.db or f"sqlite:///{tmp}/bench.db"
    ours, events = measure_commands(url, args.orders)
    if args.db:
        print(f"order+fill: {ours:,.0f} commands/s ({DatabaseUrl(url).describe()})")
        return
    baseline = measure_raw(f"sqlite:///{tmp}/raw.db", events, args.orders)
    print(
        f"order+fill: {ours:,.0f} commands/s; raw eventsourcing saves of the same events: "
        f"{baseline:,.0f}/s; ratio {baseline / ours:.2f}"
    )


if __name__ == "__main__":
    main()
