"""Blue/green rebuild: fill the idle slots from the log, then swap.

Queries keep reading the live slots until the swap; a live runner notices
the swap at its next batch and carries on in the new slot from its tracking.
Events written between the rebuild's last read and its swap are then in the old
slot only, until the runner re-applies them in the new one: read-your-writes
(`ProjectionGroup.position_of`) counts a runner's position only in the slot
queries read, and tells a runner left in the old slot to switch at once.

The projections rebuild together, in one pass over the log: each page is
read once, each projection applies the events of the page it handles, and
their rows and tracking commit in one transaction. Reading the log once per
projection cost more than all the projections' work together; memory stays
bounded by the page.
"""

from __future__ import annotations

import gc
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any

from eventsourcing.persistence import ApplicationRecorder, Mapper, Notification
from sqlalchemy import Connection, Engine, delete

from application.projections import ALL_PROJECTIONS
from infrastructure.projections.runner import ProjectionRunner
from infrastructure.projections.tracking import active_slot, reset, swap_to
from infrastructure.readmodels.tables import SLOTS, projection_tables

Progress = Callable[[str, int, int], None]
#: Called when a rebuild's projections all stand at a multiple of its `every`: that
#: sequence, and the (idle) slot each projection is being rebuilt in.
AtEvery = Callable[[int, Mapping[str, str]], None]
YOUNG = 100_000  # objects the young generation may grow by before a collection between pages
#: SQLite's page cache while a rebuild writes (larger_cache). With pages of 10 000
#: events, 169 MB peak RSS at 1 M events, under SPEC 10's 200 MB for every CLI
#: command; pages of 20 000 and 32 MiB took 228-234 MB for about 10 % less CPU.
CACHE_KIB = 8 * 1024
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
    page: int = 10_000,
    until: int | None = None,
    swap: bool = True,
    at_every: tuple[int, AtEvery] | None = None,
) -> dict[str, int]:
    """Rebuild the named projections (all when empty); the sequence each reached.

    With `until`, the rebuild stops at that sequence (time travel into a
    scratch database); with `swap=False` the new slots are left inactive.
    With `at_every` (K, call), the pass stops at each multiple of K up to the
    head it started with, while no projection has failed, and calls `call`
    there (the state's checkpoints: infrastructure/replay.py).
    A projection that fails stops at its event and is not swapped in; the
    others are, and then RuntimeError names the failure."""
    runners = []
    for name in check_names(names):
        with engine.begin() as connection:
            target = other_slot(active_slot(connection, name))
            for table in reversed(projection_tables(target).of(name)):
                connection.execute(delete(table))
            reset(connection, name, target)
        runners.append(
            ProjectionRunner(
                BY_NAME[name], engine, recorder, mapper, slot=target, on_batch=progress
            )
        )
    reader = SharedReader(engine, recorder, runners, page=page, until=until, cache_kib=CACHE_KIB)
    if at_every is not None:
        every, call = at_every
        slots = {runner.name: runner.slot for runner in runners}
        for boundary in range(every, reader.head() + 1, every):  # head() is within `until`
            reader.until = boundary
            reader.catch_up()
            if any(runner.error is not None for runner in runners):
                break
            call(boundary, slots)
        reader.until = until
    reader.catch_up()
    failed = [runner for runner in runners if runner.error is not None]
    if swap:
        for runner in runners:
            if runner.error is None:
                with engine.begin() as connection:
                    swap_to(connection, runner.name, runner.slot)
    if failed:
        raise RuntimeError(
            "; ".join(f"rebuild of {runner.name} stopped: {runner.error}" for runner in failed)
        )
    return {runner.name: runner.position for runner in runners}


class SharedReader:
    """Reads the log once, page by page, for several runners: each applies the
    notifications of the page its projection handles, as one batch, and all the
    batches of a page commit together."""

    def __init__(
        self,
        engine: Engine,
        recorder: ApplicationRecorder,
        runners: Sequence[ProjectionRunner],
        *,
        page: int,
        until: int | None = None,
        cache_kib: int | None = None,
    ) -> None:
        self.engine = engine
        self.cache_kib = cache_kib  # SQLite's page cache while writing (see larger_cache)
        self.recorder = recorder
        self.runners = list(runners)
        self.page = page
        self.until = until
        every = any(not runner.topics for runner in self.runners)
        self.topics: tuple[str, ...] = (
            () if every else tuple(sorted({t for r in self.runners for t in r.topics}))
        )

    def head(self) -> int:
        head = self.recorder.max_notification_id() or 0
        return head if self.until is None else min(head, self.until)

    def run_once(self, connection: Connection | None = None) -> int:
        """Read and apply one page, written through `connection` (a new one when None);
        the number of notifications read (0 when caught up)."""
        running = [runner for runner in self.runners if runner.error is None]
        head = self.head()
        start = min((runner.position for runner in running), default=head)
        if start >= head:
            return 0
        notifications = self.recorder.select_notifications(
            start, self.page, stop=head, topics=self.topics, inclusive_of_start=False
        )
        upto = notifications[-1].id if len(notifications) == self.page else head
        work = [runner for runner in running if runner.position < upto]
        batches, decoded = self._route(notifications, work)
        self._apply(list(zip(work, batches, strict=True)), upto, head, decoded, connection)
        return max(len(notifications), 1)

    def _apply(
        self,
        work: list[tuple[ProjectionRunner, list[Notification]]],
        upto: int,
        head: int,
        decoded: dict[int, Any],
        connection: Connection | None,
    ) -> None:
        """Every runner's batch in one transaction; if any fails, each on its own,
        where a failing projection stops at its event and the others go on."""
        staged = []
        try:
            with _transaction(self.engine, connection) as transaction:
                for runner, batch in work:
                    staged.append((runner, runner.stage(transaction, batch, upto, decoded)))
        except Exception:
            for runner, batch in work:
                runner.discard()
                runner.apply_batch(batch, upto, head)
            return
        for runner, written in staged:
            runner.committed(written, upto, head)

    def _route(
        self, notifications: Sequence[Notification], runners: Sequence[ProjectionRunner]
    ) -> tuple[list[list[Notification]], dict[int, Any]]:
        """Each runner's batch: the notifications after its position of the topics it
        handles; and each of those decoded once for every runner that applies it
        (events are immutable). One that does not decode is left to its runners, so
        each stops at it as it would alone."""
        batches: list[list[Notification]] = [[] for _ in runners]
        everything = [(r.position, batches[i]) for i, r in enumerate(runners) if not r.topics]
        by_topic: dict[str, list[tuple[int, list[Notification]]]] = {}
        for i, runner in enumerate(runners):
            for topic in runner.topics:
                by_topic.setdefault(topic, list(everything)).append((runner.position, batches[i]))
        decoded: dict[int, Any] = {}
        to_domain_event = runners[0].mapper.to_domain_event if runners else None
        for notification in notifications:
            taken = False
            for position, batch in by_topic.get(notification.topic, everything):
                if notification.id > position:
                    batch.append(notification)
                    taken = True
            if taken:
                try:
                    decoded[notification.id] = to_domain_event(notification)  # type: ignore[misc]
                except Exception:  # noqa: BLE001 - the runner reports it at its event
                    decoded[notification.id] = None
        return batches, decoded

    def catch_up(self) -> None:
        with (
            fewer_collections(),
            self.engine.connect() as connection,
            larger_cache(connection, self.cache_kib),
        ):
            while self.run_once(connection):
                if gc.get_count()[0] > YOUNG:
                    gc.collect(0)


@contextmanager
def _transaction(engine: Engine, connection: Connection | None) -> Iterator[Connection]:
    if connection is None:
        with engine.begin() as connection:
            yield connection
    else:
        with connection.begin():
            yield connection


@contextmanager
def larger_cache(connection: Connection, kib: int | None) -> Iterator[None]:
    """On SQLite, a page cache of `kib` KiB on the connection the pages are written
    through, for as long as it writes them; then the size it had.

    With SQLite's default of 2 MiB, the B-trees of the tables and indexes a page of
    rows goes into do not stay in memory: at 200 k events the rebuild read 406 MB
    and made 207 k read and write calls; with 32 MiB, 250 MB and 135 k (CACHE_KIB is
    smaller: memory)."""
    if kib is None or connection.dialect.name != "sqlite":
        yield
        return
    size = connection.exec_driver_sql("PRAGMA cache_size").scalar()
    connection.exec_driver_sql(f"PRAGMA cache_size = -{int(kib)}")
    connection.commit()
    try:
        yield
    finally:
        connection.rollback()
        connection.exec_driver_sql(f"PRAGMA cache_size = {int(size or 0)}")
        connection.commit()


@contextmanager
def fewer_collections() -> Iterator[None]:
    """Collect the young generation between pages, not during them.

    A page allocates hundreds of thousands of objects (notifications, decoded events,
    rows) that reference counting frees, and almost none in cycles. A collection in
    the middle of a page traverses all of the page's live objects, only to promote
    them: at a threshold of 100 000 that was 12 collections and 0.5 of 7.5 CPU s per
    200 k events (at the default 700, a quarter of the rebuild). Between pages little
    is alive, so a young collection there (once the generation has grown by `YOUNG`)
    is a few ms, and cyclic garbage still never outlives a few pages. Restored after,
    for the rest of the process."""
    thresholds = gc.get_threshold()
    gc.set_threshold(1_000_000, 50, 1000)
    try:
        yield
    finally:
        gc.set_threshold(*thresholds)
