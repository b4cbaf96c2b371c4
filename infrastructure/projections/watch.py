"""Read-model changes committed by other processes' runners, published in this one.

A runner publishes the rows it commits to its own process's listeners (the API's
`positionUpdates`, `orderUpdates`, ... and its quote prices). A projection that
another process runs — `tradestate worker`, or another server holding its
PostgreSQL advisory lock, or a second process on the same SQLite file whose runner
got there first — would change nothing here.

The watcher closes that gap for the projections someone here is listening to
(`wanted`). Every `poll` seconds, and when the log follower sees new events, it
reads those projections' tracking positions (one small query). Where a position
has moved past what this process has published, it reads the rows whose `as_of`
lies past it and publishes them as changes. Rows and tracking commit together,
so every row up to the tracking position read first is there. The local runner
reports each compare-and-set move of its tracking (`published`): a range it
covered is not read again, so a process that runs its own projections pays one
query per poll and nothing more. A local batch commits before its runner reports
it; before reading a range it has not seen reported, the watcher waits for the
local runner's batch in hand (`settle`), so it does not read that batch's rows
again.

A subscription that catches up from the rows (`after`) first sets a floor
(`floor`): the tracking position it read before its catch-up. The next step
publishes every row past the floor, so rows committed between that read and the
step — the watcher starting afresh for a projection nobody listened to — are not
lost between the catch-up and the live changes.

A row may be published twice (both paths, or one range read twice); change
subscriptions keep the latest state per key, so a repeat is harmless. A slot flip
(rebuild) restarts watching at the new slot's position: rebuilt rows equal the
ones already published.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping, Sequence

import structlog
from sqlalchemy import Table

from application.follow import Follower
from infrastructure.projections.runner import Change, Listener
from infrastructure.readmodels.queries import Mark, ReadModels, Row
from infrastructure.readmodels.tables import ProjectionTables

log = structlog.get_logger("tradestate.projections")
#: Local tracking moves kept until the watcher catches up with them.
MAX_LOCAL_MOVES = 64


class ChangeWatcher(Follower):
    def __init__(
        self,
        read: ReadModels,
        tables: Mapping[str, Sequence[str]],
        publish: Listener,
        wanted: Callable[[str], bool],
        *,
        poll: float = 0.1,
        settle: Callable[[str], None] = lambda name: None,
    ) -> None:
        super().__init__("projections-watch", poll=poll)
        self.read = read
        self.tables = tables
        self.publish = publish
        self.wanted = wanted
        # Returns once the local runner of a projection has reported the batch it
        # has in hand (if any): called with no lock of the watcher's held.
        self.settle = settle
        self._lock = threading.Lock()
        # projection -> ((slot, generation), position up to which its rows are published)
        self._seen: dict[str, tuple[tuple[str, int], int]] = {}
        # projection -> tracking moves (after, upto) the local runner published
        self._local: dict[str, list[tuple[int, int]]] = {}
        # projection -> ((slot, generation), position) the next step publishes from
        self._floors: dict[str, tuple[tuple[str, int], int]] = {}

    def published(self, name: str, after: int, upto: int) -> None:
        """The local runner moved tracking from `after` to `upto` and published its rows."""
        with self._lock:
            moves = self._local.setdefault(name, [])
            moves.append((after, upto))
            del moves[:-MAX_LOCAL_MOVES]

    def floor(self, name: str, slot: tuple[str, int], position: int) -> None:
        """Publish every row of `name` past `position` (in `slot`) at the next step, even
        if this watcher had not followed `name` until now."""
        with self._lock:
            old = self._floors.get(name)
            if old is None or old[0] != slot or position < old[1]:
                self._floors[name] = (slot, position)
        self.wake.set()

    def _covered(self, name: str, seen: int, *, prune: bool = True) -> int:
        """`seen`, carried on through the local runner's moves that continue from it
        (call with the lock held); `prune` forgets the moves it has passed."""
        moves = sorted(self._local.get(name, ()))
        for after, upto in moves:
            if after <= seen < upto:
                seen = upto
        if prune:
            self._local[name] = [move for move in moves if move[1] > seen]
        return seen

    def _unreported(self, name: str, slot: tuple[str, int], position: int) -> bool:
        """Whether `position` lies past what this watcher has seen of `name` and the
        local runner has reported: a range it would read."""
        with self._lock:
            seen = self._seen.get(name)
            if seen is None or seen[0] != slot:
                return False
            return self._covered(name, seen[1], prune=False) < position

    def failed(self, error: Exception) -> None:
        log.warning("read-model change watch failed", error=str(error))

    def step(self) -> bool:
        names = [name for name in self.tables if self.wanted(name)]
        with self._lock:
            for name in set(self._seen) - set(names):
                del self._seen[name]  # nobody listens: start afresh when someone does
        if not names:
            return False
        for name, slot, generation, position in self.read.version(names):
            self._catch_up(name, (slot, generation), position or 0)
        return False

    def _catch_up(self, name: str, slot: tuple[str, int], position: int) -> None:
        if self._unreported(name, slot, position):
            self.settle(name)  # the local runner may have committed and not yet reported
        with self._lock:
            kept = self._floors.pop(name, None)
            floor = kept[1] if kept is not None and kept[0] == slot else None
            seen = self._seen.get(name)
            if (seen is None or seen[0] != slot) and floor is None:
                # Listen from here on (the local runner may have moved on meanwhile).
                self._seen[name] = (slot, self._covered(name, position))
                return
            since = self._covered(name, seen[1]) if seen and seen[0] == slot else position
            if floor is not None:
                since = min(since, floor)
            self._seen[name] = (slot, since)
            if position <= since:
                return
        rows: list[tuple[str, Row]] = []
        for table in self.tables[name]:
            changes = self.read.changes(name, _table(table), Mark(*slot, since))
            if changes.complete:  # the slot flipped meanwhile: the next step restarts
                return
            rows += [(table, row) for row in changes.rows]
        with self._lock:
            current = self._seen.get(name)
            if current is None or current[0] != slot:
                return
            covered = self._covered(name, current[1])  # the local runner's, meanwhile
            self._seen[name] = (slot, self._covered(name, max(covered, position)))
        rows.sort(key=lambda item: item[1]["as_of"])
        for table, row in rows:
            if row["as_of"] > covered:
                self.publish(Change(name, table, row, row["as_of"]))


def _table(name: str) -> Callable[[ProjectionTables], Table]:
    def table_of(tables: ProjectionTables) -> Table:
        return getattr(tables, name)

    return table_of
