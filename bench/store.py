"""A large, realistic event store, made quickly and cached between runs.

Commands run once on an in-memory store (orders, fills netting into positions
that open, reduce and flip, and quote batches) to make a template of a few
thousand events. The store is that template copied until it is big enough:
each copy gets its own instruments, order and fill ids (the `ZZ` marker
rewritten) and its own aggregate ids (every UUID mapped), and the copies go in
through the recorder in large batches. The file is cached by size."""

from __future__ import annotations

import re
import shutil
import time
import uuid
from decimal import Decimal
from pathlib import Path

from eventsourcing.persistence import StoredEvent

from application.commands import Commands
from application.inputs import FillInput, OrderInput, QuoteInput
from application.store import Store
from infrastructure.settings import load_settings
from interfaces.composition import build_system

VERSION = 1  # bump when the template changes, so cached stores are remade
MARKER = b"ZZ"
INSTRUMENTS = 20
UUID_HEX = re.compile(rb'"uuid_hex","_data_":"([0-9a-f]{32})"')
NAMESPACE = uuid.UUID("5f1d3c0e-4a8b-4c2e-9e57-0b6c1d2e3f40")
# Events per insert. On PostgreSQL a 10 000-event insert_events once hung for
# minutes in psycopg's Pipeline.sync (server waiting in ClientRead, psycopg
# 3.3.9 binary; cf. psycopg issue #685), so it gets the known-good 1 000.
BATCH = {"sqlite": 10_000, "postgres": 1_000}


def template_app() -> Commands:
    """An in-memory application to run a template's commands on."""
    return Commands.build(
        Store(
            env={
                "PERSISTENCE_MODULE": "eventsourcing.popo",
                "IS_SNAPSHOTTING_ENABLED": "n",
                "AGGREGATE_CACHE_MAXSIZE": "10000",
            }
        )
    )


def quote_batch(app: Commands, i: int, instruments: int) -> None:
    """One quote for each of `instruments` template instruments."""
    app.quotes.ingest_quotes(
        [QuoteInput(instrument=f"ZZI{j:02d}", last=Decimal("100.5") + Decimal(i % 40) / 8)
         for j in range(instruments)]
    )  # fmt: skip


def template(pairs: int = 2000) -> list[StoredEvent]:
    app = template_app()
    for i in range(pairs):
        instrument = f"ZZI{i % INSTRUMENTS:02d}"
        side = "BUY" if (i // INSTRUMENTS) % 3 else "SELL"  # positions grow, shrink and flip
        order = app.orders.place_order(
            OrderInput(client_order_id=f"ZZo{i}", instrument=instrument, side=side,
                       quantity=Decimal(5 + i % 7))
        ).order  # fmt: skip
        app.orders.record_fill(
            FillInput(order_id=order.id, fill_id=f"ZZf{i}", quantity=Decimal(5 + i % 7),
                      price=Decimal("100.25") + Decimal(i % 50) / 4)
        )  # fmt: skip
        if i % 25 == 0:
            quote_batch(app, i, INSTRUMENTS)
    return list(app.store.recorder.select_notifications(1, 10**9))


def copy_of(events: list[StoredEvent], k: int) -> list[StoredEvent]:
    marker = f"C{k:05d}".encode()
    ids: dict[str, uuid.UUID] = {}

    def new_id(old: str) -> uuid.UUID:
        if old not in ids:
            ids[old] = uuid.uuid5(NAMESPACE, f"{k}/{old}")
        return ids[old]

    def new_hex(match: re.Match[bytes]) -> bytes:
        return b'"uuid_hex","_data_":"%s"' % new_id(match.group(1).decode()).hex.encode()

    return [
        StoredEvent(
            originator_id=new_id(uuid.UUID(str(e.originator_id)).hex),
            originator_version=e.originator_version,
            topic=e.topic,
            state=UUID_HEX.sub(new_hex, e.state.replace(MARKER, marker)),
        )
        for e in events
    ]


def populate(url: str, events: int) -> int:
    """Fill an empty store with at least `events` events; the head sequence."""
    system = build_system(load_settings(database_url=url))
    batch = BATCH["postgres" if system.url.is_postgres else "sqlite"]
    base = template()
    pending: list[StoredEvent] = []
    k = 0
    while k * len(base) < events:
        pending += copy_of(base, k)
        k += 1
        while len(pending) >= batch:
            system.app.recorder.insert_events(pending[:batch])
            pending = pending[batch:]
    if pending:
        system.app.recorder.insert_events(pending)
    head = system.app.head_sequence()
    system.close()
    return head


def cached_sqlite_store(cache_dir: Path, events: int) -> tuple[str, float]:
    """The URL of a cached SQLite store with at least `events` events, and how long
    making it took now (0 when it was cached)."""
    cache_dir.mkdir(parents=True, exist_ok=True)
    path = cache_dir / f"store-v{VERSION}-{events}.db"
    if path.exists():
        return f"sqlite:///{path}", 0.0
    started = time.perf_counter()
    partial = cache_dir / f"{path.name}.partial"
    partial.unlink(missing_ok=True)
    populate(f"sqlite:///{partial}", events)
    shutil.move(partial, path)
    return f"sqlite:///{path}", time.perf_counter() - started
