"""Time travel from read-model checkpoints equals time travel from sequence 0 (ADR 017)."""

from __future__ import annotations

import zlib
from collections.abc import Iterator
from datetime import timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from infrastructure import checkpoints
from infrastructure.readmodels import checkpoints_table
from infrastructure.replay import (
    STATE_ORDER,
    _catch_up,
    _runners,
    remake_checkpoints,
    scratch_engine,
    sequence_at,
    state_rows,
    travelled,
)
from infrastructure.settings import load_settings
from interfaces.cli.render import graphql_json
from interfaces.composition import System, build_system
from tests.integration import checkpoint_edits
from tests.integration.workload import run_workload

EVERY = 40
POINTS_PER_EXAMPLE = 50  # × 4 examples: 200 random points per engine

State = dict[str, list[dict]]


@pytest.fixture
def system(database_url: str) -> Iterator[System]:
    system = build_system(load_settings(database_url=database_url))
    run_workload(system.commands, rounds=40)
    yield system
    system.close()


def from_zero(system: System, points: list[int]) -> dict[int, State]:
    """The state at each point, by one replay from sequence 0 that stops at each."""
    found = {}
    with scratch_engine() as scratch:
        runners = _runners(scratch, system.app.recorder, system.app.mapper, None, fresh=True)
        for point in sorted(set(points)):
            _catch_up(scratch, system.app.recorder, runners, point)
            found[point] = {kind: list(state_rows(scratch, kind)) for kind in STATE_ORDER}
    return found


def from_checkpoint(system: System, until: int) -> State:
    recorder, mapper = system.app.recorder, system.app.mapper
    with travelled(
        recorder, mapper, until, source=system.engine, every=EVERY, encode=graphql_json
    ) as found:
        return {kind: list(state_rows(found.scratch, kind)) for kind in STATE_ORDER}


def lean_json(system: System, until: int) -> dict[str, bytes]:
    """The listed rows as `replay --format json` writes them: restored only where the
    events after the checkpoint touch them, the rest from the checkpoint's lines."""
    recorder, mapper = system.app.recorder, system.app.mapper
    with travelled(
        recorder, mapper, until, source=system.engine, every=EVERY, encode=graphql_json, lean=True
    ) as found:
        return {kind: b",".join(found.listed(kind, graphql_json)) for kind in checkpoints.LISTED}


def as_json(state: State) -> dict[str, bytes]:
    listed = checkpoints.LISTED
    return {kind: b",".join(graphql_json(kind, row) for row in state[kind]) for kind in listed}


def remake(system: System) -> int:
    recorder, mapper = system.app.recorder, system.app.mapper
    return remake_checkpoints(system.engine, recorder, mapper, graphql_json, every=EVERY)


def count_checkpoints(system: System) -> int:
    with system.engine.connect() as connection:
        return connection.scalar(select(func.count()).select_from(checkpoints_table)) or 0


@settings(
    max_examples=4, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=st.data())
def test_time_travel_from_a_checkpoint_equals_time_travel_from_zero(system, data):
    head = system.app.recorder.max_notification_id()
    assert head > 4 * EVERY
    remake(system)
    assert count_checkpoints(system) == head // EVERY
    points = data.draw(st.lists(st.integers(0, head), min_size=POINTS_PER_EXAMPLE,
                                max_size=POINTS_PER_EXAMPLE))  # fmt: skip
    expected = from_zero(system, points)
    for point in points:
        assert from_checkpoint(system, point) == expected[point], point
        assert lean_json(system, point) == as_json(expected[point]), point


@settings(
    max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=st.data())
def test_until_time_by_the_checkpoints_index_finds_what_a_scan_finds(system, data):
    recorder, mapper = system.app.recorder, system.app.mapper
    if not count_checkpoints(system):  # the examples share the store: made once
        remake(system)
    events = recorder.select_notifications(1, 10_000)
    picked = mapper.to_domain_event(data.draw(st.sampled_from(events))).timestamp
    when = picked + timedelta(microseconds=data.draw(st.sampled_from([-1, 0, 1])))
    assert sequence_at(recorder, mapper, when, source=system.engine) == sequence_at(
        recorder, mapper, when
    )


def test_time_travel_makes_the_checkpoints_it_passes(system):
    head = system.app.recorder.max_notification_id()
    assert count_checkpoints(system) == 0
    from_checkpoint(system, head)
    assert count_checkpoints(system) == head // EVERY
    with system.engine.connect() as connection:
        ranges = connection.execute(
            select(checkpoints_table.c.min_time, checkpoints_table.c.max_time).order_by(
                checkpoints_table.c.sequence
            )
        ).all()
    assert all(low <= high for low, high in ranges)


def test_a_corrupted_checkpoint_is_detected_ignored_with_a_warning_and_remade(system):
    head = system.app.recorder.max_notification_id()
    until = 3 * EVERY + 5
    assert head > until
    expected = from_zero(system, [until])[until]
    from_checkpoint(system, head)
    with system.engine.begin() as connection:
        for key in checkpoint_edits.keys(connection, 3 * EVERY):
            checkpoint_edits.overwrite(connection, key, b"not a checkpoint")
    with pytest.warns(checkpoints.CorruptCheckpointWarning, match=f"checkpoint {3 * EVERY}"):
        assert from_checkpoint(system, until) == expected
    # The replay from the checkpoint before passed 3 * EVERY and stored it again.
    good = next(checkpoints.at_or_before(system.engine, 3 * EVERY))
    assert good.sequence == 3 * EVERY
    with scratch_engine() as scratch:
        checkpoints.restore(system.engine, good, scratch)


def test_a_checkpoint_whose_rows_were_altered_does_not_match_its_digest(system):
    from_checkpoint(system, 2 * EVERY)
    [checkpoint, *_] = checkpoints.at_or_before(system.engine, 2 * EVERY)
    data = checkpoint_edits.stored(system.engine, checkpoint.sequence)[0]
    altered = zlib.compress(zlib.decompress(data).replace(b'"OPEN"', b'"CLOSED"'))
    assert altered != data
    with system.engine.begin() as connection:
        key = checkpoint_edits.keys(connection, checkpoint.sequence)[0]
        checkpoint_edits.overwrite(connection, key, altered)
    with scratch_engine() as scratch, pytest.raises(checkpoints.CorruptCheckpoint):
        checkpoints.restore(system.engine, checkpoint, scratch)
