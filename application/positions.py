"""What several commands do to a position: find it, and disarm its monitors."""

from __future__ import annotations

from uuid import UUID

from application.store import Store
from domain.ids import position_id
from domain.monitors import Monitor
from domain.positions import Position


def position_of(store: Store, account: str, instrument: str, *, cached: bool = False) -> Position:
    """The position of the pair, new (unsaved) when it has never had a fill. With
    `cached`, taken out of the cache without a query (see `Store.take_cached`)."""
    key = position_id(account, instrument)
    found = (cached and store.take_cached(Position, key)) or store.find(Position, key)
    return found or Position(account=account, instrument=instrument)


def disarm_all(
    store: Store, position: Position, reason: str, keep: UUID | None = None
) -> list[Monitor]:
    """Detach every monitor of `position` and disarm each (but `keep`); the monitors
    to save with the position."""
    monitors = []
    for monitor_id in list(position.monitor_ids):
        position.detach_monitor(monitor_id)
        if monitor_id == keep:
            continue
        monitor = store.load(Monitor, monitor_id)
        monitor.disarm(reason)
        monitors.append(monitor)
    return monitors
