"""Replaying the bundled sample CSV is deterministic: two runs on fresh stores append
the same events (ids and wall-clock times aside)."""

from __future__ import annotations

from decimal import Decimal

from application.engine.log import read_log
from application.event_names import event_type
from domain.signals import Signal
from interfaces.composition import build_system
from tests.integration.engine_support import (
    another_database,
    engine_settings,
    started_policies,
    wait_until,
)

# Limits that never bind, so no decision depends on how far the broker has got.
SETTINGS = {
    "engine_feed": "csv:sample",
    "engine_feed_speed": 0,
    "engine_strategy": "ma_crossover",
    "engine_max_position": Decimal(10_000),
    "engine_max_open_orders": 1_000,
    "engine_stop_loss_fraction": None,
    "engine_take_profit_fraction": None,
    "reconcile_interval_seconds": 0,
}
KEPT = ("instrument", "side", "strength", "quantity", "price", "quotes", "status", "reason")
KEPT_ORDER = ("client_order_id",)


def replay(url: str) -> list[tuple]:
    settings = engine_settings(url, **SETTINGS)
    system = build_system(settings, trading=True)
    engine = started_policies(system)
    app = system.commands
    try:
        engine.start()
        wait_until(engine.feed_finished.is_set)

        broker = engine.followers["paper-broker"]

        def settled() -> bool:
            """The broker has seen every quote and order event (the last order may stay
            open: no quote follows it)."""
            relevant = list(read_log(app.store.recorder, engine.broker.topics))
            return broker.position is not None and broker.position >= relevant[-1].id

        wait_until(settled)
        engine.stop()
        events = [app.store.mapper.to_domain_event(n) for n in read_log(app.store.recorder, ())]
        signal_numbers: dict = {}
        for event in events:
            if isinstance(event, Signal.Generated):
                signal_numbers[event.originator_id] = len(signal_numbers)
        normal = []
        for event in events:
            fields = {k: str(getattr(event, k)) for k in KEPT if hasattr(event, k)}
            if hasattr(event, "signal_id") and event.signal_id is not None:
                fields["signal"] = str(signal_numbers[event.signal_id])
            normal.append((event_type(type(event).__qualname__), tuple(sorted(fields.items()))))
        return sorted(normal)
    finally:
        engine.stop()
        engine.close()
        system.close()


def test_replaying_the_sample_twice_appends_the_same_events(database_url, tmp_path):
    first = replay(database_url)
    with another_database(database_url, tmp_path) as other:
        second = replay(other)
    kinds = {kind for kind, _ in first}
    assert {"QuotesIngested", "SignalGenerated", "OrderPlaced", "OrderFilled"} <= kinds
    assert sum(1 for kind, _ in first if kind == "SignalRejected") > 0
    assert first == second
