"""Stores of 10 k, 100 k and 1 M events for the `scale` scenario, cached by size.

bench/store.py's template (orders, fills netting into positions, quote batches)
copied until big enough, each copy with its own instruments and ids, and here
also its own time: every copy's timestamps are shifted past the previous
copy's, so the log's time grows with its sequence as a real one does and
`--until-time` has something to find. Inserted through the recorder in
batches; then the read models are migrated and rebuilt (with checkpoints)."""

from __future__ import annotations

import re
import shutil
import time
from datetime import datetime, timedelta
from pathlib import Path

from eventsourcing.persistence import StoredEvent

from bench.store import copy_of, template
from infrastructure.settings import load_settings
from interfaces.composition import build_system

VERSION = 1
BATCH = 10_000
TIMESTAMP = re.compile(rb'"_type_":"datetime_iso","_data_":"([^"]+)"')


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
