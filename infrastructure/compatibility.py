"""Start-up compatibility check: can this code read every event in the store?

A store holding an event type, or a version of one, that this code cannot
decode (no class for the topic, a version newer than the code's, a missing
upcaster) stops start-up with a message naming them.

The kinds seen are kept with the sequence they were counted up to (a
watermark, `rm_compat_*`): each check reads only the events after it, so no
command scans the whole log. The kinds are judged afresh each time (the code
may be older than the store), from the stored set plus the new events.
"""

from __future__ import annotations

from dataclasses import dataclass

from eventsourcing.utils import resolve_topic
from sqlalchemy import Connection, Engine, insert, inspect, select, text, update
from sqlalchemy.exc import IntegrityError

from infrastructure.database import DatabaseUrl
from infrastructure.eventstore import events_table
from infrastructure.readmodels.derived import compat_kinds_table, compat_watermark_table


@dataclass(frozen=True)
class StoredKind:
    topic: str
    version: int
    count: int


class IncompatibleStore(RuntimeError):
    """The store holds events this code cannot read."""


def stored_kinds(engine: Engine, url: DatabaseUrl) -> list[StoredKind]:
    """Every (topic, class version) in the event store, with its count.

    Reads only the events past the stored watermark and moves it to the head;
    before the read models are migrated (no watermark table) it counts the log."""
    table = events_table(url)
    present = inspect(engine)
    if not present.has_table(table):
        return []
    if not present.has_table(compat_watermark_table.name):
        with engine.connect() as connection:
            return _count(connection, url, after=0, upto=None)
    with engine.connect() as connection:
        mark = connection.scalar(select(compat_watermark_table.c.sequence)) or 0
        head = connection.scalar(text(f"SELECT MAX({_sequence(url)}) FROM {table}")) or 0
        new = _count(connection, url, after=mark, upto=head) if head > mark else []
        seen = {
            (row.topic, row.class_version): row.events
            for row in connection.execute(select(compat_kinds_table))
        }
    if new:
        _advance(engine, mark, head, new)
    for kind in new:
        key = (kind.topic, kind.version)
        seen[key] = seen.get(key, 0) + kind.count
    return [StoredKind(topic, version, count) for (topic, version), count in seen.items()]


def _sequence(url: DatabaseUrl) -> str:
    return "rowid" if url.is_sqlite else "notification_id"


def _count(
    connection: Connection, url: DatabaseUrl, *, after: int, upto: int | None
) -> list[StoredKind]:
    """The kinds of the events with after < sequence <= upto, by the log's key."""
    if url.is_sqlite:
        version = "json_extract(CAST(state AS TEXT), '$.class_version')"
    else:
        version = "(convert_from(state, 'UTF8')::jsonb ->> 'class_version')::int"
    sequence = _sequence(url)
    where = f"WHERE {sequence} > :after" + (f" AND {sequence} <= :upto" if upto else "")
    query = text(
        f"SELECT topic, COALESCE({version}, 1) AS v, COUNT(*) AS n FROM {events_table(url)} "
        f"{where} GROUP BY topic, v"
    )
    rows = connection.execute(query, {"after": after, "upto": upto})
    return [StoredKind(row[0], int(row[1]), int(row[2])) for row in rows]


def _advance(engine: Engine, mark: int, head: int, new: list[StoredKind]) -> None:
    """Record the new kinds and move the watermark from `mark` to `head`, unless
    another process moved it meanwhile (then it has counted the same events)."""
    try:
        with engine.begin() as connection:
            moved = connection.execute(
                update(compat_watermark_table)
                .where(compat_watermark_table.c.sequence == mark)
                .values(sequence=head)
            ).rowcount
            if not moved:
                if mark:
                    return  # nothing written: another process moved it
                connection.execute(insert(compat_watermark_table).values(id=1, sequence=head))
            kinds = compat_kinds_table.c
            for kind in new:
                key = (kinds.topic == kind.topic) & (kinds.class_version == kind.version)
                added = connection.execute(
                    update(compat_kinds_table).where(key).values(events=kinds.events + kind.count)
                ).rowcount
                if not added:
                    connection.execute(
                        insert(compat_kinds_table).values(
                            topic=kind.topic, class_version=kind.version, events=kind.count
                        )
                    )
    except IntegrityError:
        return  # another process started at once and recorded the first watermark


def problems(kinds: list[StoredKind]) -> list[str]:
    """Why each unreadable kind cannot be read; empty when all can."""
    found = []
    for kind in kinds:
        try:
            cls = resolve_topic(kind.topic)
        except Exception:
            found.append(
                f"{kind.topic} (version {kind.version}, {kind.count} events): unknown type"
            )
            continue
        code_version = getattr(cls, "class_version", 1)
        if kind.version > code_version:
            found.append(
                f"{kind.topic} version {kind.version} ({kind.count} events): this code reads "
                f"up to version {code_version}"
            )
            continue
        missing = [
            f"upcast_v{v}_v{v + 1}"
            for v in range(kind.version, code_version)
            if not hasattr(cls, f"upcast_v{v}_v{v + 1}")
        ]
        if missing:
            found.append(f"{kind.topic} version {kind.version}: missing {', '.join(missing)}")
    return found


def check_compatibility(engine: Engine, url: DatabaseUrl) -> None:
    """Raise IncompatibleStore naming every unreadable event type/version."""
    found = problems(stored_kinds(engine, url))
    if found:
        raise IncompatibleStore(
            "the event store holds events this version of tradestate cannot read:\n  - "
            + "\n  - ".join(found)
        )
