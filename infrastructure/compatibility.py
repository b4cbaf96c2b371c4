"""Start-up compatibility check: can this code read every event in the store?

A store holding an event type, or a version of one, that this code cannot
decode (no class for the topic, a version newer than the code's, a missing
upcaster) stops start-up with a message naming them.
"""

from __future__ import annotations

from dataclasses import dataclass

from eventsourcing.utils import resolve_topic
from sqlalchemy import Engine, inspect, text

from infrastructure.database import DatabaseUrl
from infrastructure.eventstore import events_table


@dataclass(frozen=True)
class StoredKind:
    topic: str
    version: int
    count: int


class IncompatibleStore(RuntimeError):
    """The store holds events this code cannot read."""


def stored_kinds(engine: Engine, url: DatabaseUrl) -> list[StoredKind]:
    """Every (topic, class version) in the event store, with its count."""
    table = events_table(url)
    if not inspect(engine).has_table(table):
        return []
    if url.is_sqlite:
        version = "json_extract(CAST(state AS TEXT), '$.class_version')"
    else:
        version = "(convert_from(state, 'UTF8')::jsonb ->> 'class_version')::int"
    query = text(
        f"SELECT topic, COALESCE({version}, 1) AS v, COUNT(*) AS n FROM {table} GROUP BY topic, v"
    )
    with engine.connect() as connection:
        return [StoredKind(row[0], int(row[1]), int(row[2])) for row in connection.execute(query)]


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
