"""ProjectionGroup: every projection's runner, their status, and read-your-writes."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import anyio
from eventsourcing.persistence import ApplicationRecorder, Mapper
from sqlalchemy import Engine, select

from application.follow import Follower
from application.projections import ALL_PROJECTIONS, Projection
from infrastructure.projections.runner import Change, Listener, ProjectionRunner
from infrastructure.projections.threads import LogTail, ProjectionRunnerThread
from infrastructure.projections.tracking import read_tracking
from infrastructure.projections.waiting import SharedProgress
from infrastructure.projections.watch import ChangeWatcher
from infrastructure.readmodels.control import slots_table
from infrastructure.readmodels.queries import ReadModels
from infrastructure.readmodels.tables import FOLLOWABLE


@dataclass(frozen=True)
class ProjectionState:
    name: str
    sequence: int
    lag: int
    stale: bool
    error: str | None
    active: bool


class ProjectionGroup:
    #: How long the change watcher waits for a local runner's batch in hand.
    SETTLE_SECONDS = 1.0

    def __init__(
        self,
        engine: Engine,
        recorder: ApplicationRecorder,
        mapper: Mapper[Any],
        *,
        stale_after: float = 5.0,
        advisory_locks: bool = False,
        projections: Sequence[type[Projection]] = ALL_PROJECTIONS,
        poll: float = 0.1,
        persist_every: float = 1.0,
        status_engine: Engine | None = None,
        companions: Sequence[Follower] = (),
    ) -> None:
        self.engine = engine
        # Status and read-your-writes checks answer requests: on the query engine,
        # whose statements give up rather than wait out another session's lock.
        self.status_engine = status_engine or engine
        self._progress = SharedProgress(self.applied)
        self.recorder = recorder
        self.stale_after = stale_after
        self.names = [p.name for p in projections]
        self.topics = {p.name: p.topics() for p in projections}
        self._listeners: list[Listener] = []
        self._behind_since: dict[str, float] = {}
        self.tail = LogTail(recorder, poll=poll)
        self.threads = {
            p.name: ProjectionRunnerThread(
                ProjectionRunner(
                    p,
                    engine,
                    recorder,
                    mapper,
                    on_commit=self._publish,
                    on_tracked=self._tracked,
                    persist_every=persist_every,
                ),
                poll=max(poll, persist_every),  # the tail wakes it for new events
                lock=advisory_locks,
                tail=self.tail,
            )
            for p in projections
        }
        self.tail.runners = list(self.threads.values())
        # Threads that follow the log beside the projections, woken by the same
        # commits (the transparency log's follower).
        self.companions = list(companions)
        self.poll = poll
        # Every table of each read model the watcher can follow (all its tables carry
        # `as_of`); the API refuses to subscribe to any other (Api.live_changes).
        self._watchable = {p.name: p.tables for p in projections if p.name in FOLLOWABLE}
        self.watcher: ChangeWatcher | None = None
        self.running = False

    def start(self) -> None:
        # Each follower is woken by commits itself (application/follow.py).
        self.tail.start()
        for companion in self.companions:
            companion.start()
        for thread in self.threads.values():
            thread.start()
        if self.watcher is not None:
            self.watcher.start()
        self.running = True

    def watch(self, wanted: Callable[[str], bool]) -> None:
        """Publish to the listeners the rows other processes' runners commit too, for
        the projections `wanted` names (infrastructure/projections/watch.py). Called
        again (an app started anew on the same system), it replaces `wanted`."""
        if self.watcher is not None:
            self.watcher.wanted = wanted
            return
        self.watcher = ChangeWatcher(
            ReadModels(self.engine),
            self._watchable,
            self._publish,
            wanted,
            poll=self.poll,
            settle=self._settle,
        )
        if self.running:
            self.watcher.start()

    def watch_from(self, name: str, slot: tuple[str, int], position: int) -> None:
        """Have the watcher publish every row of `name` past `position` at its next step
        (a subscription catching up from the rows read from there on)."""
        if self.watcher is not None:
            self.watcher.floor(name, slot, position)

    def _settle(self, name: str) -> None:
        """Return once `name`'s local runner has reported the batch it has in hand: it
        holds `running` from before its commit to after its report. A runner stuck on
        the database is not waited out for long: a range read twice is harmless."""
        thread = self.threads.get(name)
        if thread is not None and thread.runner.running.acquire(timeout=self.SETTLE_SECONDS):
            thread.runner.running.release()

    def _tracked(self, name: str, after: int, upto: int) -> None:
        if self.watcher is not None:
            self.watcher.published(name, after, upto)

    def stop(self) -> None:
        if self.watcher is not None:
            self.watcher.stop()
        self.tail.stop()
        for thread in self.threads.values():
            thread.stopped.set()
            thread.wake.set()
        for thread in self.threads.values():
            thread.stop()
        for companion in self.companions:
            companion.stop()
        self.running = False

    def add_listener(self, listener: Listener) -> None:
        self._listeners.append(listener)

    def _publish(self, change: Change) -> None:
        for listener in list(self._listeners):
            listener(change)

    def head_sequence(self) -> int:
        return self.recorder.max_notification_id() or 0

    def position_of(
        self, name: str, upto: int | None = None, slots: Mapping[str, str] | None = None
    ) -> tuple[int, str | None, bool]:
        """(sequence, error, active here) — from the local runner when it is the
        active one and works in the slot queries read (`slots`, read if not given),
        else from that slot's tracking, read on to `upto` (default: the head) past the
        events the projection ignores.

        A runner still in the slot a rebuild has just swapped out may have applied
        events the new slot lacks (those written between the rebuild's last read and
        its swap): its position does not count, and it is told to switch now."""
        slot = (slots or self._active_slots([name]))[name]
        thread = self.threads.get(name)
        if self.running and thread is not None and thread.active:
            runner = thread.runner
            if runner.slot == slot or runner.fixed_slot is not None:
                return runner.position, runner.error, True
            runner.checked = None  # its next keep_up reads the slot again
            thread.wake.set()
        with self.status_engine.connect() as connection:
            row = read_tracking(connection, name, slot)
        return self._covered(name, row.position, upto), row.error, False

    def _active_slots(self, names: Sequence[str]) -> dict[str, str]:
        """The slot queries read, per projection (one statement)."""
        statement = select(slots_table.c.name, slots_table.c.active_slot).where(
            slots_table.c.name.in_(list(names))
        )
        with self.status_engine.connect() as connection:
            found = dict(connection.execute(statement).tuples().all())
        return {name: found.get(name, "a") for name in names}

    def _covered(self, name: str, position: int, upto: int | None) -> int:
        """How far a projection whose tracking is at `position` has applied every event
        it handles: to just before the next such event, at most to `upto` and the head.
        (Tracking is written lazily while only events it ignores go by.)"""
        topics = self.topics.get(name)
        if not topics or (upto is not None and position >= upto):  # () handles every event
            return position
        head = self.head_sequence()
        stop = head if upto is None else min(upto, head)
        if position >= stop:
            return position
        following = self.recorder.select_notifications(
            position, 1, stop=stop, topics=topics, inclusive_of_start=False
        )
        return following[0].id - 1 if following else stop

    def status(self) -> list[ProjectionState]:
        head = self.head_sequence()
        now = time.monotonic()
        states = []
        slots = self._active_slots(self.names)
        for name in self.names:
            sequence, error, active = self.position_of(name, head, slots)
            lag = max(head - sequence, 0)
            if lag > 0:
                since = self._behind_since.setdefault(name, now)
            else:
                self._behind_since.pop(name, None)
                since = now
            stale = lag > 0 and now - since > self.stale_after
            states.append(ProjectionState(name, sequence, lag, stale, error, active))
        return states

    def caught_up(self, names: Sequence[str], sequence: int) -> bool:
        slots = self._active_slots(names)
        return all(self.position_of(name, sequence, slots)[0] >= sequence for name in names)

    def applied(self) -> dict[str, int]:
        """How far each projection has applied the log (past the events it ignores)."""
        head = self.head_sequence()
        slots = self._active_slots(self.names)
        return {name: self.position_of(name, head, slots)[0] for name in self.names}

    async def wait_for(
        self,
        names: Sequence[str],
        sequence: int,
        timeout: float,
        limiter: anyio.CapacityLimiter | None = None,
    ) -> bool:
        """Read-your-writes: True once every named projection has applied `sequence`.
        The checks read the database in a worker thread (`limiter`'s), never on the
        loop, and are shared by every waiter (waiting.SharedProgress)."""
        return await self._progress.wait_for(names, sequence, timeout, limiter)

    def wait_for_blocking(self, names: Sequence[str], sequence: int, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        while not self.caught_up(names, sequence):
            if time.monotonic() >= deadline:
                return False
            time.sleep(0.01)
        return True
