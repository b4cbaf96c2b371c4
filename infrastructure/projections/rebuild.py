"""Blue/green rebuild: fill the idle slot from the log, then swap.

Queries keep reading the live slot until the swap; the live runner notices
the swap at its next batch and carries on in the new slot from its tracking.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from eventsourcing.persistence import ApplicationRecorder, Mapper
from sqlalchemy import Engine, delete

from application.projections import ALL_PROJECTIONS
from infrastructure.projections.runner import ProjectionRunner
from infrastructure.projections.tracking import active_slot, reset, swap_to
from infrastructure.readmodels.tables import SLOTS, projection_tables

Progress = Callable[[str, int, int], None]
BY_NAME = {p.name: p for p in ALL_PROJECTIONS}


def other_slot(slot: str) -> str:
    return SLOTS[1] if slot == SLOTS[0] else SLOTS[0]


def check_names(names: Sequence[str]) -> list[str]:
    unknown = [name for name in names if name not in BY_NAME]
    if unknown:
        raise ValueError(f"unknown projection(s) {', '.join(unknown)}; known: {', '.join(BY_NAME)}")
    return list(names) or list(BY_NAME)


def rebuild(
    engine: Engine,
    recorder: ApplicationRecorder,
    mapper: Mapper[Any],
    names: Sequence[str] = (),
    *,
    progress: Progress | None = None,
    page: int = 5000,
    until: int | None = None,
    swap: bool = True,
) -> dict[str, int]:
    """Rebuild the named projections (all when empty); the sequence each reached.

    With `until`, the rebuild stops at that sequence (time travel into a
    scratch database); with `swap=False` the new slot is left inactive."""
    reached = {}
    for name in check_names(names):
        projection = BY_NAME[name]
        with engine.begin() as connection:
            target = other_slot(active_slot(connection, name))
            for table in reversed(projection_tables(target).of(name)):
                connection.execute(delete(table))
            reset(connection, name, target)
        runner = ProjectionRunner(
            projection,
            engine,
            recorder,
            mapper,
            slot=target,
            page=page,
            on_batch=progress,
            until=until,
        )
        runner.catch_up()
        if runner.error is not None:
            raise RuntimeError(f"rebuild of {name} stopped: {runner.error}")
        if swap:
            with engine.begin() as connection:
                swap_to(connection, name, target)
        reached[name] = runner.position
    return reached
