"""`audit verify`: the checks an auditor runs over a store.

1. The transparency log (infrastructure/transparency/verify.py): every event
   against its leaf under a head fixed at the start, stored and trusted heads.
2. Decodability: every stored event decodes (and upcasts) with this code.
3. Read models equal a fresh replay: each projection rebuilt aside, up to
   the sequence its live tables have applied, row for row.
4. Checkpoints (time travel's, ADR 017/023): each one's parts match its
   digest, and equal a replay of the events up to it (one replay from 0 that
   stops at each checkpoint in turn, so the log is read once, and a fresh
   capture of the replay at each stop, which must hash to the same digest).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field, fields
from typing import Any

from eventsourcing.persistence import ApplicationRecorder, Mapper, Notification
from sqlalchemy import Engine

from infrastructure import checkpoints
from infrastructure.compatibility import problems, stored_kinds
from infrastructure.database import DatabaseUrl
from infrastructure.projections.rebuild import BY_NAME, rebuild
from infrastructure.projections.tracking import TrackingRow, active_slot, read_tracking
from infrastructure.readmodels.tables import projection_tables
from infrastructure.replay import Row, _catch_up, _runners, projection_rows, scratch_engine
from infrastructure.transparency.verify import Integrity, run_integrity

PAGE = 5000
MAX_DIFF_LINES = 20
Progress = Callable[[str, int, int], None]


@dataclass
class Finding:
    """One check's outcome: `sequence` is the first failing one, when known."""

    check: str
    ok: bool
    summary: str
    sequence: int | None = None
    details: list[str] = field(default_factory=list)


def _pages(recorder: ApplicationRecorder, head: int) -> Iterator[Sequence[Notification]]:
    start = 0
    while start < head:
        page = recorder.select_notifications(start, PAGE, stop=head, inclusive_of_start=False)
        if not page:
            return
        yield page
        start = page[-1].id


def _check_attributes(event: Any) -> None:
    """The mapper sets whatever the state holds: check it is what the class declares."""
    declared = {f.name for f in fields(type(event))}
    held = set(vars(event))
    if held != declared:
        missing, extra = sorted(declared - held), sorted(held - declared)
        raise ValueError(f"attributes missing {missing}, unexpected {extra}")


class _Decoding:
    def __init__(
        self, mapper: Mapper[Any], problems: list[str], bad_kinds: set[tuple[str, int]]
    ) -> None:
        self.mapper = mapper
        self.problems = problems
        self.bad_kinds = bad_kinds
        self.bad_topics = {topic for topic, _ in bad_kinds}
        self.decoded = 0
        self.failures = 0
        self.first: tuple[int, str] | None = None

    def _fail(self, notification: Notification, why: str) -> None:
        self.failures += 1
        if self.first is None:
            self.first = (notification.id, f"{notification.topic}: {why}")

    def _unreadable(self, notification: Notification) -> bool:
        """Whether this event's (type, stored version) is one the code cannot read."""
        try:
            state = bytes(notification.state)
            if self.mapper.cipher:
                state = self.mapper.cipher.decrypt(state)
            if self.mapper.compressor:
                state = self.mapper.compressor.decompress(state)
            version = int(self.mapper.transcoder.decode(state).get("class_version", 1))
        except Exception as error:
            self._fail(notification, f"{type(error).__name__}: {error}")
            return True
        if (notification.topic, version) in self.bad_kinds:
            self._fail(notification, f"version {version}, which this code cannot read")
            return True
        return False

    def feed(self, page: Sequence[Notification]) -> None:
        for notification in page:
            if notification.topic in self.bad_topics and self._unreadable(notification):
                continue
            try:
                _check_attributes(self.mapper.to_domain_event(notification))
                self.decoded += 1
            except Exception as error:
                self._fail(notification, f"{type(error).__name__}: {error}")

    def finding(self) -> Finding:
        if self.first is None and not self.problems:
            return Finding("decodability", True, f"{self.decoded} events decode and upcast")
        sequence, why = self.first or (None, "")
        summary = f"{self.failures} events do not decode"
        if sequence is not None:
            summary = f"sequence {sequence} does not decode ({why}); " + summary
        return Finding("decodability", False, summary, sequence, list(self.problems))


def verify_log(
    engine: Engine,
    url: DatabaseUrl,
    recorder: ApplicationRecorder,
    mapper: Mapper[Any],
    integrity: Integrity,
    progress: Progress | None = None,
) -> tuple[Finding, Finding]:
    """Checks 1 and 2, each a pass over the log up to the fixed head's last event:
    the transparency log (rows, no decoding), then decodability."""
    run_integrity(integrity, engine, url, progress)
    head = integrity.end_sequence
    kinds = stored_kinds(engine, url)
    unreadable = problems(kinds)
    bad_kinds = {(k.topic, k.version) for k in kinds if problems([k])}
    decoding = _Decoding(mapper, unreadable, bad_kinds)
    for page in _pages(recorder, head):
        decoding.feed(page)
        if progress is not None:
            progress("decode", page[-1].id, head)
    return integrity_finding(integrity), decoding.finding()


def integrity_finding(integrity: Integrity) -> Finding:
    failure = integrity.failure
    if failure is None:
        return Finding("transparency log", True, integrity.summary(), None, integrity.notes)
    where = f"sequence {failure.sequence}: " if failure.sequence is not None else ""
    return Finding(
        "transparency log", False, where + failure.why, failure.sequence, integrity.notes
    )


def _live_rows(engine: Engine, name: str) -> tuple[TrackingRow, dict[str, list[Row]]]:
    """A projection's tracking and rows, read in one snapshot however busy its runner
    is: REPEATABLE READ on PostgreSQL (with four writers, 50 tries in READ COMMITTED
    were not enough); on SQLite an explicit read transaction (the driver begins none
    for a SELECT, so each statement saw the file as it then stood, and four writers
    kept `orders` moving through 50 tries). The check that tracking did not move
    stays as a guard."""
    postgres = engine.dialect.name == "postgresql"
    snapshot = {"isolation_level": "REPEATABLE READ"} if postgres else {}
    for _ in range(50):
        with engine.connect().execution_options(**snapshot) as connection:
            if not postgres:
                connection.exec_driver_sql("BEGIN")  # WAL: one snapshot until the end
            before = read_tracking(connection, name, active_slot(connection, name))
            rows = projection_rows(connection, name)
            after = read_tracking(connection, name, active_slot(connection, name))
        if before.position == after.position:
            return after, rows
    raise RuntimeError(f"projection {name} keeps moving; stop its runner and verify again")


def _key(table: str, row: Row) -> tuple[Any, ...]:
    keys = [c.name for c in getattr(projection_tables("a"), table).primary_key.columns]
    return tuple(row[k] for k in keys)


def _row_sequence(row: Row) -> int | None:
    return row.get("as_of", row.get("sequence"))


def compare(table: str, live: list[Row], replayed: list[Row]) -> tuple[list[str], int | None]:
    """Readable differences between two row sets of `table`, and the earliest
    sequence among the rows that differ."""
    live_by_key = {_key(table, r): r for r in live}
    fresh_by_key = {_key(table, r): r for r in replayed}
    lines: list[str] = []
    sequences: list[int] = []
    for key in sorted(live_by_key.keys() | fresh_by_key.keys(), key=str):
        ours, theirs = live_by_key.get(key), fresh_by_key.get(key)
        if ours == theirs:
            continue
        label = f"{table} {'/'.join(str(k) for k in key)}"
        if theirs is None:
            lines.append(f"{label}: only in the live read model")
        elif ours is None:
            lines.append(f"{label}: missing from the live read model")
        else:
            changed = [
                f"{column} live={ours.get(column)!s} replay={theirs.get(column)!s}"
                for column in theirs
                if ours.get(column) != theirs.get(column)
            ]
            lines.append(f"{label}: {'; '.join(changed)}")
        sequences += [s for s in (_row_sequence(ours or {}), _row_sequence(theirs or {})) if s]
    return lines, min(sequences, default=None)


def verify_read_models(
    engine: Engine,
    recorder: ApplicationRecorder,
    mapper: Mapper[Any],
    progress: Progress | None = None,
) -> Finding:
    """Check 3: each projection's live tables equal a fresh replay to the same sequence."""
    details: list[str] = []
    sequences: list[int] = []
    compared: list[str] = []
    with scratch_engine() as scratch:
        for name in BY_NAME:
            tracking, live = _live_rows(engine, name)
            if tracking.error is not None:
                details.append(f"{name}: the live projection stopped: {tracking.error}")
                sequences += [tracking.error_sequence] if tracking.error_sequence else []
            try:
                until = tracking.position
                rebuild(scratch, recorder, mapper, (name,), progress=progress, until=until)
            except RuntimeError as error:
                details.append(f"{name}: fresh replay failed: {error}")
                found = re.search(r"event (\d+)", str(error))
                sequences += [int(found.group(1))] if found else []
                continue
            with scratch.connect() as connection:
                fresh = projection_rows(connection, name)
            compared.append(f"{name}@{tracking.position}")
            for table, rows in fresh.items():
                lines, sequence = compare(table, live[table], rows)
                if lines:
                    shown = lines[:MAX_DIFF_LINES]
                    if len(lines) > MAX_DIFF_LINES:
                        shown.append(f"{table}: ... and {len(lines) - MAX_DIFF_LINES} more rows")
                    details += shown
                    if sequence is not None:
                        sequences.append(sequence)
    if not details:
        return Finding("read models", True, "equal a fresh replay: " + ", ".join(compared))
    first = min(sequences, default=None)
    return Finding("read models", False, "differ from a fresh replay", first, details)


def verify_checkpoints(
    engine: Engine,
    recorder: ApplicationRecorder,
    mapper: Mapper[Any],
    encode: checkpoints.Encode,
    progress: Progress | None = None,
) -> Finding:
    """Check 4: every checkpoint matches its digest and a replay of its range."""
    head = recorder.max_notification_id() or 0
    stored = sorted(checkpoints.at_or_before(engine, head), key=lambda c: c.sequence)
    beyond = checkpoints.latest(engine) > head
    if not stored and not beyond:
        return Finding("checkpoints", True, "none stored")
    details: list[str] = []
    sequences: list[int] = []
    with scratch_engine() as scratch:
        runners = _runners(scratch, recorder, mapper, progress, fresh=True)
        previous = 0
        good: tuple[Engine, checkpoints.Checkpoint] | None = None
        for checkpoint in stored:
            wrong = []
            digest, count = checkpoints.digest_of(
                checkpoint.sequence, checkpoints.stored_parts(engine, checkpoint.sequence)
            )
            if (digest, count) != (checkpoint.digest, checkpoint.parts):
                wrong.append("does not match its digest")
            try:
                _catch_up(scratch, recorder, runners, checkpoint.sequence)
            except RuntimeError as error:
                details.append(f"checkpoint {checkpoint.sequence}: replay failed: {error}")
                sequences.append(checkpoint.sequence)
                break
            fresh, _ = checkpoints.digest_of(
                checkpoint.sequence, checkpoints.capture(scratch, encode, good)
            )
            if fresh != checkpoint.digest:
                wrong.append("disagrees with a replay of its range")
            # A checkpoint found good lends the next capture its unchanged rows' lines.
            good = None if wrong else (engine, checkpoint)
            times = checkpoints.time_range(engine, previous, checkpoint.sequence)
            if times != (checkpoint.min_time, checkpoint.max_time):
                wrong.append("holds another time range than its events")
            if wrong:
                details.append(f"checkpoint {checkpoint.sequence}: {'; '.join(wrong)}")
                sequences.append(checkpoint.sequence)
            previous = checkpoint.sequence
    if beyond:
        details.append("a checkpoint lies beyond the head of the log")
    if not details:
        return Finding(
            "checkpoints", True, f"{len(stored)} match their digests and a replay of the log"
        )
    first = min(sequences, default=None)
    return Finding("checkpoints", False, "differ from a replay of the log", first, details)
