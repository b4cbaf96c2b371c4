"""Time travel: the read models as they were at a sequence, built aside.

A replay fills a scratch SQLite database (in a temporary directory) from the
source store's log up to the sequence asked for; the live read models are
never touched. It starts from the nearest read-model checkpoint
(infrastructure/checkpoints.py), so it applies at most K events. When it will
not pass another checkpoint, only the rows of the aggregates those events touch
are restored, and the other rows are streamed from the checkpoint's lines as
the output's JSON (`travelled(lean=True)`, `Travelled.listed`).
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, time
from functools import cache
from pathlib import Path
from typing import Any, cast
from uuid import UUID

from eventsourcing.domain import DomainEvent
from eventsourcing.persistence import ApplicationRecorder, Mapper
from sqlalchemy import Connection, Engine, func, insert, select, text

from domain.valuation import session_start
from infrastructure import checkpoints
from infrastructure.checkpoint_check import CANNOT_GROW, Good, Grown
from infrastructure.database import DatabaseUrl, make_engine
from infrastructure.event_times import stored_as_json, stored_times, time_range
from infrastructure.projections.rebuild import BY_NAME, Progress, SharedReader, check_names, rebuild
from infrastructure.projections.runner import ProjectionRunner
from infrastructure.projections.tracking import active_slot, reset
from infrastructure.readmodels import PROJECTION_NAMES, metadata, projection_tables, slots_table
from infrastructure.readmodels.account_queries import AccountReads

Row = dict[str, Any]
PAGE = 5000


def sequence_at(
    recorder: ApplicationRecorder,
    mapper: Mapper[Any],
    when: datetime,
    source: Engine | None = None,
) -> int:
    """The last sequence whose event timestamp is at or before `when` (0: none).

    Timestamps are taken before commit, so concurrent writers may commit them
    slightly out of order: the log is read backwards until the first event at
    or before `when`, which is by definition the last one. With checkpoints
    (`source`), only the events after the last checkpoint and those of the
    newest checkpoint range holding an event at or before `when` are read.
    """
    if when.tzinfo is None:
        raise ValueError(f"{when.isoformat()} has no time zone; add one, e.g. Z or +00:00")
    head = recorder.max_notification_id() or 0
    if source is None:
        return _last_at_or_before(recorder, mapper, when, 0, head)
    tail = checkpoints.latest(source)
    found = _last_at_or_before(recorder, mapper, when, tail, head, source)
    if found or tail == 0:
        return found
    checkpoint = checkpoints.latest_starting_by(source, when)
    if checkpoint is None:
        return 0
    start = checkpoints.previous(source, checkpoint.sequence)
    return _last_at_or_before(recorder, mapper, when, start, checkpoint.sequence, source)


def _last_at_or_before(
    recorder: ApplicationRecorder,
    mapper: Mapper[Any],
    when: datetime,
    after: int,
    stop: int,
    source: Engine | None = None,
) -> int:
    """The last sequence in (after, stop] whose event is at or before `when` (0: none)."""
    while stop > after:
        start = max(stop - PAGE + 1, after + 1)
        for sequence, timestamp in reversed(_times(recorder, mapper, start, stop, source)):
            if timestamp <= when:
                return sequence
        stop = start - 1
    return 0


def _times(
    recorder: ApplicationRecorder,
    mapper: Mapper[Any],
    start: int,
    stop: int,
    source: Engine | None,
) -> list[tuple[int, datetime]]:
    """Each event's sequence and timestamp in [start, stop], in order: read by the
    source database where it can (event_times.py), else from the decoded events."""
    if source is not None and stored_as_json(mapper):
        found = stored_times(source, start - 1, stop)
        if found is not None:
            return found
    page = recorder.select_notifications(start, PAGE, stop=stop)
    events = (cast(DomainEvent, mapper.to_domain_event(n)) for n in page)  # all stored are
    return [(n.id, event.timestamp) for n, event in zip(page, events, strict=True)]


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
    """An empty SQLite database with the read-model schema, in a temporary directory,
    removed after: a copy of one made once per process (`_empty_schema`)."""
    with tempfile.TemporaryDirectory(prefix="tradestate-replay-", dir=directory) as tmp:
        path = Path(tmp) / "replay.db"
        path.write_bytes(_empty_schema())
        engine = make_engine(DatabaseUrl(f"sqlite:///{path}"))
        try:
            yield engine
        finally:
            engine.dispose()


@cache
def _empty_schema() -> bytes:
    """The file of a SQLite database holding the read-model schema and the slots'
    rows, and nothing else. Made from the tables' declarations (which the migrations
    are tested to match) rather than by alembic: a throwaway database needs no
    history. Made once and copied: creating the tables took 0.12 s a scratch
    database, which a test that travels to 200 points paid 400 times."""
    with tempfile.TemporaryDirectory(prefix="tradestate-schema-") as tmp:
        path = Path(tmp) / "schema.db"
        engine = make_engine(DatabaseUrl(f"sqlite:///{path}"))
        try:
            with engine.begin() as connection:
                metadata.create_all(connection)
                connection.execute(
                    insert(slots_table),
                    [{"name": n, "active_slot": "a", "generation": 0} for n in PROJECTION_NAMES],
                )
            with engine.connect() as connection:  # one file: the WAL folded back in
                connection.exec_driver_sql("PRAGMA journal_mode=DELETE")
        finally:
            engine.dispose()
        return path.read_bytes()


# The state `replay --until-*` shows, each in the order the API lists it.
STATE_ORDER = {**checkpoints.LISTED, "accounts": ("account", "currency")}


def state_at(
    recorder: ApplicationRecorder,
    mapper: Mapper[Any],
    until: int,
    progress: Progress | None = None,
    source: Engine | None = None,
    session_start_utc: time = time(0),
    encode: checkpoints.Encode | None = None,
) -> dict[str, list[Row]]:
    """Positions, orders, signals, monitors and account totals as they were at sequence
    `until` (today's P&L of the session of the accounts' last change then)."""
    with travelled(
        recorder, mapper, until, source=source, progress=progress, encode=encode
    ) as found:
        return {
            name: list(state_rows(found.scratch, name, session_start_utc)) for name in STATE_ORDER
        }


def account_rows(scratch: Engine, session_start_utc: time = time(0)) -> list[Row]:
    """The account totals in a scratch database, today's P&L counted from the session
    of the accounts' last change (the latest moment the state knows)."""
    with scratch.connect() as connection:
        slot = active_slot(connection, "accounts")
        table = projection_tables(slot).accounts
        then = connection.execute(select(func.max(table.c.updated_at))).scalar()
    if then is None:
        return []
    rows = AccountReads(scratch).accounts(session_start(then, session_start_utc))
    return sorted(rows, key=lambda row: tuple(str(row[c]) for c in STATE_ORDER["accounts"]))


@dataclass(frozen=True)
class Travelled:
    """A time travel's scratch database, and the checkpoint whose lines hold the
    listed rows it does not (`base`; None when it holds them all)."""

    scratch: Engine
    source: Engine | None = None
    base: checkpoints.Checkpoint | None = None

    def listed(self, kind: str, encode: checkpoints.Encode) -> Iterator[bytes]:
        """A listed kind's rows as the output's JSON, in the API's order, streamed:
        each item is one row or a comma-joined run of rows."""
        if self.base is None or self.source is None:
            return (encode(kind, row) for row in state_rows(self.scratch, kind))
        return checkpoints.merged(self.source, self.base, self.scratch, kind, encode)


@contextmanager
def travelled(
    recorder: ApplicationRecorder,
    mapper: Mapper[Any],
    until: int,
    *,
    source: Engine | None = None,
    progress: Progress | None = None,
    every: int = checkpoints.EVERY,
    encode: checkpoints.Encode | None = None,
    lean: bool = False,
) -> Iterator[Travelled]:
    """The state at sequence `until`.

    With `source` (the store's engine) it starts from the nearest checkpoint at
    or before `until` that matches its digest, and stores a checkpoint (its
    listed rows written by `encode`) at each multiple of `every` it passes;
    without, it replays from sequence 0. With `lean`, when it passes no
    multiple of `every`, it restores only the listed rows of the aggregates the
    events after the checkpoint touch, and the result's `listed` reads the
    others from the checkpoint."""
    if source is not None and encode is None:
        raise ValueError("time travel with checkpoints needs `encode`, to write them")
    with scratch_engine() as scratch:
        start, base, last = 0, None, None
        for checkpoint in checkpoints.at_or_before(source, until) if source else ():
            thin = lean and (checkpoint.sequence // every + 1) * every > until
            assert source is not None  # checkpoints come only from a source
            only = _touched(source, checkpoint.sequence, until) if thin else None
            try:
                checkpoints.restore(source, checkpoint, scratch, only=only)
            except checkpoints.CorruptCheckpoint as error:
                checkpoints.warn_corrupt(error)
                continue
            start, base, last = checkpoint.sequence, checkpoint if thin else None, checkpoint
            break
        runners = _runners(scratch, recorder, mapper, progress, fresh=start == 0)
        if source is not None and encode is not None:
            made = _Checkpoints(source, scratch, encode, start, last)
            for boundary in range((start // every + 1) * every, until + 1, every):
                _catch_up(scratch, recorder, runners, boundary)
                made.store(boundary)
        _catch_up(scratch, recorder, runners, until)
        yield Travelled(scratch, source, base)


class _Checkpoints:
    """Stores the state of `scratch` as the checkpoint at each multiple of K a replay
    stops at, in order after `start`, where `last` is (None: no checkpoint before).

    Each is grown (ADR 025) from the one this replay stored before: only the parts
    the rows changed since fall in are made again, so a rebuild's checkpoints cost
    the rows that changed, not the whole state each. After a restored checkpoint,
    whose parts' bounds are not at hand, or when the one before was stored again
    meanwhile or a listed row moved, the capture encodes again only the changed
    rows' lines (ADR 023). Either way the parts are the same bytes."""

    def __init__(self, source: Engine, scratch: Engine, encode: checkpoints.Encode,
                 start: int = 0, last: checkpoints.Checkpoint | None = None,
                 ) -> None:  # fmt: skip
        self.source, self.scratch, self.encode = source, scratch, encode
        self.start, self.last, self.count = start, last, 0
        self.good: Good | None = None  # the parts of `last`, when this replay made it

    def store(self, sequence: int, slots: checkpoints.Slots | None = None) -> None:
        """The state at `sequence` (of `slots`, if not the active slots) as its checkpoint."""
        times = time_range(self.source, self.start, sequence)
        self.good = self._save(sequence, times, slots)
        self.last = next(checkpoints.at_or_before(self.source, sequence))
        self.start, self.count = sequence, self.count + 1

    def _save(self, sequence: int, times: tuple[datetime, datetime],
              slots: checkpoints.Slots | None) -> Good | None:  # fmt: skip
        """What the next checkpoint grows from (None: it cannot)."""
        source, scratch, encode = self.source, self.scratch, self.encode
        if self.last is None or self.good is not None:
            grown = Grown(source, scratch, encode, sequence, self.good, slots)
            try:
                checkpoints.save(source, sequence, times, grown)
                return grown.good  # None when another process stored it first
            except CANNOT_GROW:
                pass  # `good` was stored again meanwhile, or a listed row moved
        grown_from = None if self.last is None else (source, self.last)
        whole = checkpoints.capture(scratch, encode, grown_from, slots)
        checkpoints.save(source, sequence, times, whole)
        return None


def _touched(source: Engine, after: int, until: int) -> set[str]:
    """The raw ids (as SQLite stores them) of the aggregates of events in (after, until]."""
    if source.dialect.name == "sqlite":
        query = "SELECT DISTINCT originator_id FROM stored_events "
        query += "WHERE rowid > :after AND rowid <= :until"
    else:
        query = "SELECT DISTINCT originator_id FROM tradestate_events "
        query += "WHERE notification_id > :after AND notification_id <= :until"
    with source.connect() as connection:
        ids = connection.execute(text(query), {"after": after, "until": until}).scalars()
        return {UUID(str(found)).hex for found in ids}


def _runners(
    scratch: Engine,
    recorder: ApplicationRecorder,
    mapper: Mapper[Any],
    progress: Any,
    *,
    fresh: bool,
) -> list[ProjectionRunner]:
    runners = []
    with scratch.begin() as connection:
        slots = {name: active_slot(connection, name) for name in STATE_ORDER}
        for name, slot in slots.items() if fresh else ():
            reset(connection, name, slot)
    for name, slot in slots.items():
        runner = ProjectionRunner(BY_NAME[name], scratch, recorder, mapper, slot=slot)
        runner.on_batch = progress
        runner.sync()
        runners.append(runner)
    return runners


def _catch_up(
    scratch: Engine, recorder: ApplicationRecorder, runners: list[ProjectionRunner], until: int
) -> None:
    SharedReader(scratch, recorder, runners, page=PAGE, until=until).catch_up()
    failed = [runner for runner in runners if runner.error is not None]
    if failed:
        raise RuntimeError(
            "; ".join(f"replay of {runner.name} stopped: {runner.error}" for runner in failed)
        )


def state_rows(scratch: Engine, kind: str, session_start_utc: time = time(0)) -> Iterator[Row]:
    """The rows of one kind of state in the API's order, streamed from the database."""
    if kind == "accounts":
        yield from account_rows(scratch, session_start_utc)
        return
    with scratch.connect() as connection:
        slot = active_slot(connection, kind)
        (table,) = projection_tables(slot).of(kind)
        statement = select(table).order_by(*(table.c[c] for c in STATE_ORDER[kind]))
        for row in connection.execution_options(yield_per=PAGE).execute(statement):
            yield dict(row._mapping)


def rebuild_remaking_checkpoints(
    source: Engine,
    recorder: ApplicationRecorder,
    mapper: Mapper[Any],
    names: Sequence[str],
    encode: checkpoints.Encode,
    *,
    progress: Progress | None = None,
    every: int = checkpoints.EVERY,
) -> tuple[dict[str, int], int]:
    """`replay --rebuild`: rebuild the named projections (rebuild.py), and remake every
    checkpoint; the sequence each projection reached, and how many checkpoints
    there are now.

    On SQLite, when the state's projections are all rebuilt, each checkpoint is
    taken from the rebuild's own pass as it stands at each multiple of `every`:
    its idle slots hold the state at that sequence in SQLite's raw values, the ones
    a scratch replay holds. Otherwise (PostgreSQL's raw values differ; or some of
    the state is not rebuilt) a replay into a scratch database makes them after."""
    in_pass = source.dialect.name == "sqlite" and set(checkpoints.STATE) <= set(check_names(names))
    if not in_pass:
        reached = rebuild(source, recorder, mapper, names, progress=progress)
        return reached, remake_checkpoints(source, recorder, mapper, encode, every)
    checkpoints.drop_all(source)
    made = _Checkpoints(source, source, encode)  # the store is its own scratch
    reached = rebuild(
        source, recorder, mapper, names, progress=progress, at_every=(every, made.store)
    )
    return reached, made.count


def remake_checkpoints(
    source: Engine,
    recorder: ApplicationRecorder,
    mapper: Mapper[Any],
    encode: checkpoints.Encode,
    every: int = checkpoints.EVERY,
) -> int:
    """Drop every checkpoint and make them again from the log (`replay --rebuild`);
    how many there are now."""
    checkpoints.drop_all(source)
    head = recorder.max_notification_id() or 0
    if head >= every:
        with travelled(recorder, mapper, head, source=source, every=every, encode=encode):
            pass
    return head // every
