"""The change watcher and its own process's runner (infrastructure/projections/watch.py).

A runner commits a batch, then reports the tracking move it made. A watcher step
between the two saw tracking past what had been reported and read the batch's rows
again (a CI failure of test_change_watch). Now it first waits for the local runner's
batch in hand (`settle`); fakes stand for the database here."""

from __future__ import annotations

from typing import Any

from application.read_models import Changes, Mark
from infrastructure.projections.watch import ChangeWatcher


class FakeRows:
    """Tracking of `positions` at `position`; counts the row reads."""

    def __init__(self) -> None:
        self.position = 0
        self.reads: list[Mark] = []

    def version(self, names: list[str]) -> list[tuple[str, str, int, int]]:
        return [(name, "a", 0, self.position) for name in names]

    def changes(self, name: str, table: Any, since: Mark) -> Changes:
        self.reads.append(since)
        row = {"instrument": "X", "as_of": self.position}
        return Changes([row], False, Mark(since.slot, since.generation, self.position))


def watcher(rows: FakeRows, settle) -> tuple[ChangeWatcher, list[Any]]:
    published: list[Any] = []
    watch = ChangeWatcher(
        rows,  # type: ignore[arg-type]  # a fake of the two reads the watcher makes
        {"positions": ["positions"]},
        published.append,
        lambda name: True,
        settle=settle,
    )
    return watch, published


def test_a_batch_committed_but_not_yet_reported_is_not_read_again():
    rows = FakeRows()
    watch = None

    def runner_reports(name: str) -> None:  # the local runner finishes its report
        watch.published(name, 0, 5)

    watch, published = watcher(rows, runner_reports)
    watch.step()  # listens from 0
    rows.position = 5  # the local runner committed 1..5; its report is still to come
    watch.step()
    assert rows.reads == [] and published == []


def test_another_process_s_batch_is_read_after_settling():
    rows = FakeRows()
    settled: list[str] = []
    watch, published = watcher(rows, settled.append)
    watch.step()
    rows.position = 3  # another process's runner: nothing local to wait for
    watch.step()
    assert settled == ["positions"]
    assert rows.reads == [Mark("a", 0, 0)]
    assert [change.row["as_of"] for change in published] == [3]


def test_nothing_new_waits_for_nobody():
    rows = FakeRows()
    settled: list[str] = []
    watch, _ = watcher(rows, settled.append)
    watch.step()
    watch.step()
    assert settled == []
