"""Stores of 10 k, 100 k and 1 M events for the `scale` scenario, cached by size.

The issue's realistic mix over 50 instruments, made once by real commands on an
in-memory store (`template`): orders (market, and limit orders cancelled or
rejected), fills (some partial) netting into positions that open, reduce and
flip, quote batches, signals (accepted into orders and filled, rejected,
cancelled) and monitors (armed, disarmed, triggered into exit orders). The
template is copied until big enough, each copy with its own instruments and
ids (bench/store.py's `copy_of`, plus the ids written as text inside
client order ids such as `signal-<id>`), and its own time: every copy's
timestamps are shifted past the previous copy's, so the log's time grows with
its sequence as a real one does and `--until-time` has something to find.
Inserted through the recorder in batches; then the read models are migrated and
rebuilt (with checkpoints). VERSION is in the cache key: bump it when the mix
changes."""

from __future__ import annotations

import re
import shutil
import time
import uuid
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path

from eventsourcing.persistence import StoredEvent

from application.inputs import FillInput, MonitorInput, OrderInput, SignalInput
from bench import store
from domain.errors import Conflict
from infrastructure.settings import load_settings
from interfaces.composition import build_system

VERSION = 2  # 2: the realistic mix (signals, monitors, 50 instruments)
INSTRUMENTS = 50
UUID_TEXT = re.compile(rb"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
BATCH = 10_000
TIMESTAMP = re.compile(rb'"_type_":"datetime_iso","_data_":"([^"]+)"')


def template(pairs: int = 2000) -> list[StoredEvent]:
    """A few thousand events of every kind over INSTRUMENTS instruments."""
    app = store.template_app()
    monitors: list[uuid.UUID] = []
    for i in range(pairs):
        instrument = f"ZZI{i % INSTRUMENTS:02d}"
        side = "BUY" if (i // INSTRUMENTS) % 3 else "SELL"  # positions grow, shrink and flip
        quantity = Decimal(5 + i % 7)
        price = Decimal("100.25") + Decimal(i % 50) / 4
        order = app.orders.place_order(
            OrderInput(client_order_id=f"ZZo{i}", instrument=instrument, side=side,
                       quantity=quantity)
        ).order  # fmt: skip
        if i % 4 == 0:  # a partial fill first
            app.orders.record_fill(FillInput(order_id=order.id, fill_id=f"ZZp{i}",
                                      quantity=Decimal(2), price=price))  # fmt: skip
            quantity -= 2
        app.orders.record_fill(
            FillInput(order_id=order.id, fill_id=f"ZZf{i}", quantity=quantity, price=price)
        )
        if i % 10 == 3:  # a limit order that never fills: cancelled or rejected
            limit = app.orders.place_order(
                OrderInput(client_order_id=f"ZZl{i}", instrument=instrument, side="BUY",
                           quantity=Decimal(1), type="LIMIT", limit_price=Decimal(90))
            ).order  # fmt: skip
            if i % 20 == 3:
                app.orders.cancel_order(limit.id, "no longer wanted")
            else:
                app.orders.reject_order(limit.id, "outside the band")
        if i % 5 == 1:  # a signal: accepted (and filled), rejected or cancelled
            signal = app.signals.generate_signal(
                SignalInput(strategy="ZZmomentum", instrument=instrument, side=side,
                            strength=Decimal("0.5") + Decimal(i % 5) / 10, reason="crossed")
            ).signal  # fmt: skip
            if i % 15 == 1:
                accepted = app.signals.accept_signal(signal.id, Decimal(3)).order
                assert accepted is not None
                app.orders.record_fill(FillInput(order_id=accepted.id, fill_id=f"ZZs{i}",
                                          quantity=Decimal(3), price=price))  # fmt: skip
            elif i % 15 == 6:
                app.signals.reject_signal(signal.id, "risk limit")
            else:
                app.signals.cancel_signal(signal.id, "stale")
        if i % 8 == 2:  # a monitor on the position: kept, disarmed or triggered later
            try:
                armed = app.monitors.arm_monitor(
                    MonitorInput(instrument=instrument, stop_loss=Decimal(50),
                                 take_profit=Decimal(1000))
                ).monitor  # fmt: skip
                monitors.append(armed.id)
            except Conflict:
                pass  # the position is flat just now
        if i % 20 == 19 and monitors:
            try:  # disarmed, or take profit: an exit order (unless its position closed)
                if i % 40 == 39:
                    app.monitors.disarm_monitor(monitors.pop(0))
                else:
                    app.monitors.evaluate_monitor(monitors.pop(0), Decimal(2000))
            except Conflict:
                pass  # disarmed already when its position closed
        if i % 25 == 0:
            store.quote_batch(app, i, INSTRUMENTS)
    return list(app.store.recorder.select_notifications(1, 10**9))


def copy_of(events: list[StoredEvent], k: int) -> list[StoredEvent]:
    """bench/store.py's copy, with the ids written as text (`signal-<id>`) mapped too."""
    copied = store.copy_of(events, k)

    def new_text(match: re.Match[bytes]) -> bytes:
        old = uuid.UUID(match.group().decode()).hex
        return str(uuid.uuid5(store.NAMESPACE, f"{k}/{old}")).encode()

    return [
        StoredEvent(
            e.originator_id, e.originator_version, e.topic, UUID_TEXT.sub(new_text, e.state)
        )
        for e in copied
    ]


def shifted(events: list[StoredEvent], by: timedelta) -> list[StoredEvent]:
    def shift(match: re.Match[bytes]) -> bytes:
        moved = datetime.fromisoformat(match.group(1).decode()) + by
        return b'"_type_":"datetime_iso","_data_":"%s"' % moved.isoformat().encode()

    return [
        StoredEvent(e.originator_id, e.originator_version, e.topic, TIMESTAMP.sub(shift, e.state))
        for e in events
    ]


def populate(url: str, events: int) -> int:
    system = build_system(load_settings(database_url=url))
    base = template()
    times = [datetime.fromisoformat(m.decode()) for e in base for m in TIMESTAMP.findall(e.state)]
    span = max(times) - min(times) + timedelta(seconds=1)
    pending: list[StoredEvent] = []
    k = 0
    while k * len(base) < events:
        pending += shifted(copy_of(base, k), span * k)
        k += 1
        while len(pending) >= BATCH:
            system.app.recorder.insert_events(pending[:BATCH])
            pending = pending[BATCH:]
    if pending:
        system.app.recorder.insert_events(pending)
    head = system.app.head_sequence()
    system.close()
    return head


def scale_store(cache_dir: Path, events: int) -> tuple[Path, float]:
    """A cached SQLite store of at least `events` events, and how long making it took."""
    cache_dir.mkdir(parents=True, exist_ok=True)
    path = cache_dir / f"scale-v{VERSION}-{events}.db"
    if path.exists():
        return path, 0.0
    started = time.perf_counter()
    partial = cache_dir / f"{path.name}.partial"
    partial.unlink(missing_ok=True)
    populate(f"sqlite:///{partial}", events)
    shutil.move(partial, path)
    return path, time.perf_counter() - started
