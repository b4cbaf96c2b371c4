"""Tracking rows (`rm_tracking`) and active slots (`rm_slots`).

A runner advances its tracking row in the same transaction as its rows, with
a compare-and-set on the previous position: if another runner moved it
first, the batch rolls back and nothing is applied twice. A live runner's
compare-and-set also checks that its slot is still the active one, so a
blue/green swap stops it like another runner's move would.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, Engine, bindparam, func, select, update

from infrastructure.database import conflict_insert
from infrastructure.readmodels.control import slots_table, tracking_name, tracking_table


class TrackingConflict(RuntimeError):
    """Another runner advanced this projection's tracking first."""


@dataclass(frozen=True)
class TrackingRow:
    position: int
    error: str | None
    error_sequence: int | None
    updated_at: datetime | None


def _insert(connection: Connection):
    return conflict_insert(connection.dialect.name)


def read_tracking(connection: Connection, projection: str, slot: str) -> TrackingRow:
    row = connection.execute(
        select(tracking_table).where(tracking_table.c.name == tracking_name(projection, slot))
    ).first()
    if row is None:
        return TrackingRow(0, None, None, None)
    return TrackingRow(row.notification_id, row.error, row.error_sequence, row.updated_at)


def advance(
    connection: Connection, projection: str, slot: str, old: int, new: int, *, live: bool = False
) -> None:
    """Move tracking from `old` to `new`, or raise TrackingConflict; with `live`, also
    when `slot` is no longer the projection's active slot."""
    name = tracking_name(projection, slot)
    now = datetime.now(UTC)
    if old == 0:
        if live and active_slot(connection, projection) != slot:
            raise TrackingConflict(f"{name} is no longer the active slot")
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
        parameters = {"tracked": name, "old": old, "new": new, "now": now}
        if live:
            parameters.update(projection=projection, slot=slot)
        result = connection.execute(_MOVE_LIVE if live else _MOVE, parameters)
    # RETURNING, not rowcount: psycopg reports -1 for INSERT .. ON CONFLICT.
    if result.first() is None:
        raise TrackingConflict(f"{name} moved past {old} under another runner")


def _move(*, live: bool) -> Any:
    """The compare-and-set of `advance`, built once: every batch of every runner runs
    it, and building and keying a statement cost more than executing it."""
    statement = update(tracking_table).where(
        tracking_table.c.name == bindparam("tracked"),
        tracking_table.c.notification_id == bindparam("old"),
    )
    if live:
        chosen = select(slots_table.c.active_slot).where(
            slots_table.c.name == bindparam("projection")
        )
        statement = statement.where(
            func.coalesce(chosen.scalar_subquery(), "a") == bindparam("slot")
        )
    return statement.values(
        notification_id=bindparam("new"),
        updated_at=bindparam("now"),
        error=None,
        error_sequence=None,
    ).returning(tracking_table.c.name)


_MOVE = _move(live=False)
_MOVE_LIVE = _move(live=True)


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
