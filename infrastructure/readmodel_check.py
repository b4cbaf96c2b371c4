"""`audit verify`, check 3: each live read model equals a fresh replay of the log.

Each projection is replayed into a scratch database up to the position its live
tables have applied. Then both sides' rows are streamed in key order and merged
(infrastructure/rowdiff.py). Neither side is held, so memory does not grow with
the rows.

The live position and rows must be from one snapshot. The replay is done in two
steps so that the snapshot stays short:
- first up to the position read outside the snapshot, which is the long part;
- then, in the snapshot, on from there to its position, which is the events the
  live runner applied meanwhile.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from eventsourcing.persistence import ApplicationRecorder, Mapper
from sqlalchemy import Connection, Engine, Table, delete

from infrastructure.audit import CACHE_ROWS, Finding
from infrastructure.projections.rebuild import BY_NAME, SharedReader
from infrastructure.projections.runner import ProjectionRunner
from infrastructure.projections.store import RowCache
from infrastructure.projections.tracking import TrackingRow, active_slot, read_tracking, reset
from infrastructure.readmodels.tables import projection_tables
from infrastructure.replay import scratch_engine
from infrastructure.rowdiff import Differences, differences, ordered_rows

# Events replayed at once. A page's decoded events and rows are held, and here memory
# is the limit: pages of 5 000 quote batches took check 3 to 196 MB at 1 M events, and
# 106 MB in pages of 1 000, with no more CPU (orders and trades at 111 k: 8.5 s).
PAGE = 1000
Progress = Callable[[str, int, int], None]


@contextmanager
def _live_snapshot(engine: Engine, name: str) -> Iterator[tuple[Connection, TrackingRow]]:
    """A connection holding one snapshot of the live store, and `name`'s tracking in it,
    so the rows read through it are those of that position however busy its runner
    is: REPEATABLE READ on PostgreSQL (with four writers, 50 tries in READ COMMITTED
    were not enough); on SQLite an explicit read transaction (the driver begins none
    for a SELECT, so each statement saw the file as it then stood, and four writers
    kept `orders` moving through 50 tries)."""
    postgres = engine.dialect.name == "postgresql"
    snapshot = {"isolation_level": "REPEATABLE READ"} if postgres else {}
    with engine.connect().execution_options(**snapshot) as connection:
        if not postgres:
            connection.exec_driver_sql("BEGIN")  # WAL: one snapshot until the end
        yield connection, _tracking(connection, name)


def _tracking(connection: Connection, name: str) -> TrackingRow:
    return read_tracking(connection, name, active_slot(connection, name))


def _tables(connection: Connection, name: str) -> dict[str, Table]:
    """`name`'s tables in its active slot, by their slotless names."""
    slot = active_slot(connection, name)
    return {
        table.name.removeprefix("rm_").removesuffix(f"_{slot}"): table
        for table in projection_tables(slot).of(name)
    }


class _Replays:
    """The projections replayed in a scratch database, one at a time, each carried
    forward to the position asked for; started again from 0 only if asked for an
    earlier one (the live projection was swapped for a rebuild that is behind).

    Only the runner of the projection being checked is kept, with a cache of
    CACHE_ROWS rows: keeping every projection's runner, each caching up to 10 000
    rows, took check 3 to 252 MB at 1 M events."""

    def __init__(
        self,
        scratch: Engine,
        recorder: ApplicationRecorder,
        mapper: Mapper[Any],
        progress: Progress | None,
    ) -> None:
        self.scratch = scratch
        self.recorder = recorder
        self.mapper = mapper
        self.progress = progress
        self.runner: ProjectionRunner | None = None

    def _fresh(self, name: str) -> ProjectionRunner:
        with self.scratch.begin() as connection:
            slot = active_slot(connection, name)
            for table in reversed(projection_tables(slot).of(name)):
                connection.execute(delete(table))
            reset(connection, name, slot)
        projection = BY_NAME[name]
        runner = ProjectionRunner(
            projection, self.scratch, self.recorder, self.mapper, slot=slot, on_batch=self.progress
        )
        runner.cache = RowCache(CACHE_ROWS)
        self.runner = runner
        return runner

    def to(self, name: str, until: int) -> None:
        """`name` replayed up to `until`, or RuntimeError naming the event it stopped at."""
        runner = self.runner
        if runner is None or runner.name != name or runner.position > until:
            runner = self._fresh(name)
        SharedReader(self.scratch, self.recorder, [runner], page=PAGE, until=until).catch_up()
        if runner.error is not None:
            raise RuntimeError(f"rebuild of {name} stopped: {runner.error}")


@dataclass
class _Report:
    details: list[str] = field(default_factory=list)
    sequences: list[int] = field(default_factory=list)
    compared: list[str] = field(default_factory=list)

    def failed(self, line: str, sequence: int | None) -> None:
        self.details.append(line)
        self.sequences += [sequence] if sequence else []

    def replay_failed(self, name: str, error: RuntimeError) -> None:
        found = re.search(r"event (\d+)", str(error))
        self.failed(f"{name}: fresh replay failed: {error}", int(found.group(1)) if found else None)

    def differ(self, found: Differences) -> None:
        self.details += found.shown()
        self.sequences += [found.sequence] if found.sequence is not None else []

    def finding(self) -> Finding:
        if not self.details:
            return Finding("read models", True, "equal a fresh replay: " + ", ".join(self.compared))
        first = min(self.sequences, default=None)
        return Finding("read models", False, "differ from a fresh replay", first, self.details)


def _compare(
    live: Connection, scratch: Engine, name: str, tracking: TrackingRow, report: _Report
) -> None:
    """Each of `name`'s live tables against the scratch replay's, streamed in key order;
    then its tracking again, which the snapshot keeps where it was."""
    with scratch.connect() as fresh:
        live_tables = _tables(live, name)
        for table, replayed in _tables(fresh, name).items():
            found = differences(
                table, ordered_rows(live, live_tables[table]), ordered_rows(fresh, replayed)
            )
            if found.count:
                report.differ(found)
    if _tracking(live, name).position != tracking.position:
        raise RuntimeError(f"projection {name} moved within one snapshot; verify again")


def _replayed(replays: _Replays, name: str, until: int) -> RuntimeError | None:
    try:
        replays.to(name, until)
    except RuntimeError as error:
        return error
    return None


def _check(engine: Engine, replays: _Replays, name: str, report: _Report) -> None:
    with engine.connect() as connection:
        failure = _replayed(replays, name, _tracking(connection, name).position)
    with _live_snapshot(engine, name) as (live, tracking):
        if tracking.error is not None:
            report.failed(
                f"{name}: the live projection stopped: {tracking.error}", tracking.error_sequence
            )
        failure = failure or _replayed(replays, name, tracking.position)
        if failure is not None:
            report.replay_failed(name, failure)
            return
        report.compared.append(f"{name}@{tracking.position}")
        _compare(live, replays.scratch, name, tracking, report)


def verify_read_models(
    engine: Engine,
    recorder: ApplicationRecorder,
    mapper: Mapper[Any],
    progress: Progress | None = None,
) -> Finding:
    """Check 3: each projection's live tables equal a fresh replay to the same sequence."""
    report = _Report()
    with scratch_engine() as scratch:
        replays = _Replays(scratch, recorder, mapper, progress)
        for name in BY_NAME:
            _check(engine, replays, name, report)
    return report.finding()
