"""Tracking rows (`rm_tracking`) and active slots (`rm_slots`).

A runner advances its tracking row in the same transaction as its rows, with
a compare-and-set on the previous position: if another runner moved it
first, the batch rolls back and nothing is applied twice.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import Connection, Engine, select, update
from sqlalchemy.dialects import postgresql, sqlite

from infrastructure.readmodels.control import slots_table, tracking_name, tracking_table


class TrackingConflict(RuntimeError):
    """Another runner advanced this projection's tracking first."""


@dataclass(frozen=True)
class TrackingRow:
    position: int
    error: str | None
    error_sequence: int | None
    updated_at: datetime | None


def _insert(connection: Connection):  # type: ignore[no-untyped-def]
    return postgresql.insert if connection.dialect.name == "postgresql" else sqlite.insert


def read_tracking(connection: Connection, projection: str, slot: str) -> TrackingRow:
    row = connection.execute(
        select(tracking_table).where(tracking_table.c.name == tracking_name(projection, slot))
    ).first()
    if row is None:
        return TrackingRow(0, None, None, None)
    return TrackingRow(row.notification_id, row.error, row.error_sequence, row.updated_at)


def advance(connection: Connection, projection: str, slot: str, old: int, new: int) -> None:
    """Move tracking from `old` to `new`, or raise TrackingConflict."""
    name = tracking_name(projection, slot)
    now = datetime.now(UTC)
    if old == 0:
        statement = _insert(connection)(tracking_table).values(
            name=name, notification_id=new, updated_at=now
        )
        statement = statement.on_conflict_do_update(
            index_elements=["name"],
            set_={"notification_id": new, "updated_at": now},
            where=tracking_table.c.notification_id == 0,
        )
        result = connection.execute(statement.returning(tracking_table.c.name))
    else:
        result = connection.execute(
            update(tracking_table)
            .where(tracking_table.c.name == name, tracking_table.c.notification_id == old)
            .values(notification_id=new, updated_at=now, error=None, error_sequence=None)
            .returning(tracking_table.c.name)
        )
    # RETURNING, not rowcount: psycopg reports -1 for INSERT .. ON CONFLICT.
    if result.first() is None:
        raise TrackingConflict(f"{name} moved past {old} under another runner")


def reset(connection: Connection, projection: str, slot: str) -> None:
    name = tracking_name(projection, slot)
    now = datetime.now(UTC)
    statement = _insert(connection)(tracking_table).values(
        name=name, notification_id=0, updated_at=now
    )
    connection.execute(
        statement.on_conflict_do_update(
            index_elements=["name"],
            set_={"notification_id": 0, "updated_at": now, "error": None, "error_sequence": None},
        )
    )


def record_error(engine: Engine, projection: str, slot: str, sequence: int, error: str) -> None:
    name = tracking_name(projection, slot)
    now = datetime.now(UTC)
    with engine.begin() as connection:
        statement = _insert(connection)(tracking_table).values(
            name=name, notification_id=0, updated_at=now, error=error, error_sequence=sequence
        )
        connection.execute(
            statement.on_conflict_do_update(
                index_elements=["name"],
                set_={"error": error, "error_sequence": sequence, "updated_at": now},
            )
        )


def active_slot(connection: Connection, projection: str) -> str:
    slot = connection.execute(
        select(slots_table.c.active_slot).where(slots_table.c.name == projection)
    ).scalar_one_or_none()
    return slot or "a"


def swap_to(connection: Connection, projection: str, slot: str) -> None:
    connection.execute(
        update(slots_table)
        .where(slots_table.c.name == projection)
        .values(active_slot=slot, generation=slots_table.c.generation + 1)
    )
