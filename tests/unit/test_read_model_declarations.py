"""Each read model is declared once (ADR 020): its projection dispatches on event types
and names its tables; the topics, the SQL tables of both slots, the projection names
and the change watcher's tables all derive from that, and the API refuses to
subscribe to a read model the watcher could not follow."""

from __future__ import annotations

import inspect
from functools import singledispatchmethod
from pathlib import Path
from types import SimpleNamespace
from typing import Any
from unittest.mock import MagicMock

import pytest
from sqlalchemy import create_engine

from application.projections import ALL_PROJECTIONS, Projection, RowStore
from application.served import SERVED_EVENTS
from infrastructure.projections.group import ProjectionGroup
from infrastructure.readmodels import tables as tables_module
from infrastructure.readmodels.metadata import TABLE_BUILDERS, metadata
from infrastructure.readmodels.tables import (
    FOLLOWABLE,
    PROJECTION_NAMES,
    READ_MODELS,
    SLOTS,
    projection_tables,
)
from interfaces.api.context import Api
from interfaces.api.errors import ApiError

ROOT = Path(__file__).resolve().parents[2]


def test_topics_are_the_types_apply_dispatches_on() -> None:
    for projection in ALL_PROJECTIONS:
        registered = inspect.getattr_static(projection, "apply").dispatcher.registry
        assert set(projection.events()) == set(registered) - {object}
        assert len(projection.topics()) == len(projection.events()) > 0
    assert {e for p in ALL_PROJECTIONS for e in p.events()} == SERVED_EVENTS


def test_an_event_a_projection_does_not_handle_changes_nothing() -> None:
    store = MagicMock()
    for projection in ALL_PROJECTIONS:
        projection().apply(object(), 1, store)
    assert not store.method_calls


def test_a_projection_without_its_own_apply_has_no_topics() -> None:
    class Borrowed(Projection):
        name = "borrowed"
        tables = ()

    with pytest.raises(TypeError, match="singledispatchmethod"):
        Borrowed.topics()

    class Own(Projection):
        name = "own"
        tables = ()

        @singledispatchmethod
        def apply(self, event: object, sequence: int, store: RowStore) -> None:
            """Nothing else."""

        @apply.register
        def counted(self, e: int, sequence: int, store: RowStore) -> None:
            """An int."""

    assert Own.events() == (int,)


def test_every_table_comes_from_one_projections_declaration() -> None:
    assert tuple(p.name for p in ALL_PROJECTIONS) == PROJECTION_NAMES
    assert {p.name: p.tables for p in ALL_PROJECTIONS} == READ_MODELS
    for slot in SLOTS:
        tables = projection_tables(slot)
        declared = [name for p in ALL_PROJECTIONS for name in p.tables]
        assert [t.name for t in tables.all()] == [f"rm_{name}_{slot}" for name in declared]
        for projection in ALL_PROJECTIONS:
            assert tables.of(projection.name) == tuple(tables.table(n) for n in projection.tables)
        assert all(t.name in metadata.tables for t in tables.all())


def test_a_table_without_a_projection_or_a_builder_is_refused(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    builders = dict(TABLE_BUILDERS, orphans=lambda slot: MagicMock())
    monkeypatch.setattr(tables_module, "TABLE_BUILDERS", builders)
    with pytest.raises(RuntimeError, match="orphans"):
        tables_module._check_declarations()
    builders.pop("orphans")
    builders.pop("trades")
    with pytest.raises(RuntimeError, match="trades"):
        tables_module._check_declarations()


def test_every_read_model_can_be_followed_across_processes() -> None:
    """Every table of every read model has `as_of`, so the change watcher can follow
    each one; a subscription to any of them gets other processes' rows."""
    assert set(PROJECTION_NAMES) == FOLLOWABLE
    for slot in SLOTS:
        for table in projection_tables(slot).all():
            assert "as_of" in table.c, table.name


def _group() -> ProjectionGroup:
    return ProjectionGroup(create_engine("sqlite://"), MagicMock(), MagicMock())


def test_the_watcher_follows_every_table_of_the_declaration() -> None:
    group = _group()
    group.watch(lambda name: True)
    assert group.watcher is not None
    assert {name: tuple(t) for name, t in group.watcher.tables.items()} == dict(READ_MODELS)


def test_a_read_model_that_cannot_be_followed_is_refused_not_skipped(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    unfollowable = FOLLOWABLE - {"trades"}
    monkeypatch.setattr("infrastructure.projections.group.FOLLOWABLE", unfollowable)
    group = _group()
    group.watch(lambda name: True)
    assert group.watcher is not None and "trades" not in group.watcher.tables
    api: Any = SimpleNamespace(changes=MagicMock(), read=SimpleNamespace(followable=unfollowable))
    with pytest.raises(ApiError) as refused:
        Api.live_changes(api, "trades", key=id, accept=bool)
    assert refused.value.code == "UNAVAILABLE"
    assert not api.changes.changes.called
    Api.live_changes(api, "orders", key=id, accept=bool)
    assert api.changes.changes.called


def test_every_subscription_opens_its_changes_through_the_check() -> None:
    """`Api.live_changes` is the one way to a read model's changes."""
    for path in (ROOT / "interfaces").rglob("*.py"):
        if path.name != "context.py":
            assert "changes.changes(" not in path.read_text(), path
