"""Time travel: the read models as they were at a sequence, built aside.

A replay fills a scratch SQLite database (in a temporary directory) from the
source store's log up to the sequence asked for; the live read models are
never touched.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, time
from pathlib import Path
from typing import Any

from eventsourcing.persistence import ApplicationRecorder, Mapper
from sqlalchemy import Connection, Engine, select

from infrastructure.database import DatabaseUrl, make_engine
from infrastructure.migrate import upgrade
from infrastructure.projections.rebuild import Progress, rebuild
from infrastructure.projections.tracking import active_slot
from infrastructure.readmodels.account_queries import AccountReads, session_start
from infrastructure.readmodels.tables import projection_tables

Row = dict[str, Any]
PAGE = 5000


def sequence_at(recorder: ApplicationRecorder, mapper: Mapper[Any], when: datetime) -> int:
    """The last sequence whose event timestamp is at or before `when` (0: none).

    Timestamps are taken before commit, so concurrent writers may commit them
    slightly out of order: the log is read backwards from the head until the
    first event at or before `when`, which is by definition the last one.
    """
    if when.tzinfo is None:
        raise ValueError(f"{when.isoformat()} has no time zone; add one, e.g. Z or +00:00")
    stop = recorder.max_notification_id() or 0
    while stop > 0:
        start = max(stop - PAGE + 1, 1)
        page = recorder.select_notifications(start, PAGE, stop=stop)
        for notification in reversed(page):
            if mapper.to_domain_event(notification).timestamp <= when:
                return notification.id
        stop = start - 1
    return 0


def projection_rows(connection: Connection, projection: str) -> dict[str, list[Row]]:
    """Every row of `projection`'s tables in its active slot, by table, in key order."""
    slot = active_slot(connection, projection)
    found = {}
    for table in projection_tables(slot).of(projection):
        name = table.name.removeprefix("rm_").removesuffix(f"_{slot}")
        keys = list(table.primary_key.columns)
        rows = connection.execute(select(table).order_by(*keys))
        found[name] = [dict(row._mapping) for row in rows]
    return found


@contextmanager
def scratch_engine(directory: str | None = None) -> Iterator[Engine]:
    """An empty, migrated SQLite database in a temporary directory, removed after."""
    with tempfile.TemporaryDirectory(prefix="tradestate-replay-", dir=directory) as tmp:
        url = f"sqlite:///{Path(tmp) / 'replay.db'}"
        upgrade(url)
        engine = make_engine(DatabaseUrl(url))
        try:
            yield engine
        finally:
            engine.dispose()


# The state `replay --until-*` shows, each in the order the API lists it.
STATE_ORDER = {
    "positions": ("account", "instrument"),
    "orders": ("created_at", "client_order_id"),
    "signals": ("created_at", "id"),
    "monitors": ("created_at", "id"),
    "accounts": ("account", "currency"),
}


def state_at(
    recorder: ApplicationRecorder,
    mapper: Mapper[Any],
    until: int,
    progress: Progress | None = None,
    session_start_utc: time = time(0),
) -> dict[str, list[Row]]:
    """Positions, orders, signals, monitors and account totals as they were at sequence
    `until` (today's P&L of the session of the accounts' last change then)."""
    with scratch_engine() as engine:
        rebuild(engine, recorder, mapper, tuple(STATE_ORDER), progress=progress, until=until)
        with engine.connect() as connection:
            state = {name: projection_rows(connection, name)[name] for name in STATE_ORDER}
        if state["accounts"]:
            then = max(row["updated_at"] for row in state["accounts"])
            since = session_start(then, session_start_utc)
            state["accounts"] = AccountReads(engine).accounts(since)
    for name, columns in STATE_ORDER.items():
        state[name].sort(key=lambda row: tuple(str(row[c]) for c in columns))
    return state
