"""`audit verify`: the checks an auditor runs over a store.

1. The transparency log (infrastructure/transparency/verify.py): every event
   against its leaf under a head fixed at the start, stored and trusted heads.
2. Decodability: every stored event decodes (and upcasts) with this code.
3. Read models equal a fresh replay: each projection rebuilt aside, up to
   the sequence its live tables have applied, row for row
   (infrastructure/readmodel_check.py).
4. Checkpoints (time travel's, ADR 017/023/025): each one's parts match its
   digest, and equal a replay of the events up to it (one replay from 0 that
   stops at each checkpoint in turn, so the log is read once; at each stop the
   parts the replay should give, grown from the last checkpoint found equal to
   it, must have the stored parts' digests: infrastructure/checkpoint_check.py).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field, fields
from typing import Any

from eventsourcing.persistence import ApplicationRecorder, Mapper, Notification
from sqlalchemy import Engine

from infrastructure import checkpoints
from infrastructure.checkpoint_check import Good, expected
from infrastructure.compatibility import problems, stored_kinds
from infrastructure.database import DatabaseUrl
from infrastructure.event_times import time_range
from infrastructure.projections.store import RowCache
from infrastructure.replay import _catch_up, _runners, scratch_engine
from infrastructure.transparency.verify import Integrity, run_integrity

PAGE = 5000
# Rows each replaying runner keeps between batches. The live runners' 10 000 took the
# five of check 4 to 188 MB at 1 M events; 2 000 is as fast here (at 111 k: 132 MB,
# 9.7 s CPU, against 145 MB and 10.8 s).
CACHE_ROWS = 2000
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


def _sequences(found: list[int]) -> str:
    shown = ", ".join(str(sequence) for sequence in found[:5])
    return shown + (f" and {len(found) - 5} more" if len(found) > 5 else "")


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
        for runner in runners:
            runner.cache = RowCache(CACHE_ROWS)
        previous = 0
        good: Good | None = None
        earlier: list[int] = []  # made by an earlier version: remade, not reported
        hashed: dict[str, bytes] = {}  # a shared part is read and hashed once
        for checkpoint in stored:
            wrong = []
            digests = checkpoints.part_digests(engine, checkpoint.sequence, hashed)
            digest = checkpoints.combined(checkpoint.sequence, digests)
            if (digest, len(digests)) != (checkpoint.digest, checkpoint.parts):
                made_by = checkpoints.older_format(
                    checkpoint.sequence,
                    checkpoints.stored_parts(engine, checkpoint.sequence),
                    checkpoint.digest,
                )
                if made_by is not None:
                    # Time travel ignores it and remakes it; it lends the next none.
                    earlier.append(checkpoint.sequence)
                    good, previous = None, checkpoint.sequence
                    continue
                wrong.append("does not match its digest")
            try:
                _catch_up(scratch, recorder, runners, checkpoint.sequence)
            except RuntimeError as error:
                details.append(f"checkpoint {checkpoint.sequence}: replay failed: {error}")
                sequences.append(checkpoint.sequence)
                break
            replayed = expected(engine, scratch, encode, checkpoint.sequence, good)
            if replayed.digests != digests:
                wrong.append("disagrees with a replay of its range")
            # A checkpoint found good lends the next one its unchanged parts.
            good = None if wrong else replayed.good
            times = time_range(engine, previous, checkpoint.sequence)
            if times != (checkpoint.min_time, checkpoint.max_time):
                wrong.append("holds another time range than its events")
            if wrong:
                details.append(f"checkpoint {checkpoint.sequence}: {'; '.join(wrong)}")
                sequences.append(checkpoint.sequence)
            previous = checkpoint.sequence
    if beyond:
        details.append("a checkpoint lies beyond the head of the log")
    remade = (
        [
            f"{len(earlier)} made by an earlier version ({_sequences(earlier)}): time travel "
            "ignores and remakes them, `replay --rebuild` remakes them all"
        ]
        if earlier
        else []
    )
    if not details:
        checked = len(stored) - len(earlier)
        summary = f"{checked} match their digests and a replay of the log"
        return Finding("checkpoints", True, summary, None, remade)
    details += remade
    first = min(sequences, default=None)
    return Finding("checkpoints", False, "differ from a replay of the log", first, details)
