"""Replay is deterministic (SPEC sections 5, 8 and 11): for any command sequence,
rebuilding every projection twice gives the same read models as the live
runners, and replaying until sequence N gives what the live read models held
when N was the head."""

from __future__ import annotations

import json
from decimal import Decimal as D
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import Engine

from application.projections import ALL_PROJECTIONS
from infrastructure.projections.rebuild import rebuild
from infrastructure.projections.runner import ProjectionRunner
from infrastructure.replay import STATE_ORDER, projection_rows, scratch_engine, state_at
from interfaces.cli.render import graphql_object
from interfaces.composition import System
from tests.integration.test_cli_replay import tradestate
from tests.property.budget import share
from tests.property.commands import Command, FixedBroker, Runner, any_command, command_lists
from tests.property.stores import sqlite_system

NAMES = [projection.name for projection in ALL_PROJECTIONS]
Canonical = dict[str, dict[str, list[tuple[tuple[str, str], ...]]]]


def canonical(rows_by_table: dict[str, list[dict[str, Any]]]) -> dict[str, list[Any]]:
    """Rows as sorted (column, repr(value)) tuples: equal only if every value and its
    type and representation are equal (Decimal("1.0") differs from Decimal("1"))."""
    return {
        table: sorted(tuple(sorted((k, repr(v)) for k, v in row.items())) for row in rows)
        for table, rows in rows_by_table.items()
    }


def read_models(engine: Engine) -> Canonical:
    """Every projection's rows in its active slot."""
    with engine.connect() as connection:
        return {name: canonical(projection_rows(connection, name)) for name in NAMES}


def run_live(system: System, commands: list[Command], page: int) -> dict[int, Canonical]:
    """Run the commands with live runners caught up after each; the read models
    as they were whenever each sequence was the head."""
    app = system.commands
    runners = [
        ProjectionRunner(p, system.engine, app.store.recorder, app.store.mapper, page=page)
        for p in ALL_PROJECTIONS
    ]
    states = {0: read_models(system.engine)}
    driver = Runner(app)
    for number, step in enumerate(commands):
        driver.run(number, step)
        for runner in runners:
            runner.catch_up()
            assert runner.error is None
        head = app.store.head_sequence()
        now = read_models(system.engine)
        # a refused command appends nothing, so nothing changes
        assert states.setdefault(head, now) == now
    return states


@pytest.mark.slow
@share(0.12, store=True)
@given(command_lists, st.integers(1, 7), st.data())
def test_rebuilds_and_replays_until_any_sequence_equal_the_live_read_models(
    store_dir, commands, page, data
):
    with sqlite_system(store_dir, broker=FixedBroker()) as system:
        live = run_live(system, commands, page)
        app, head = system.commands, system.app.head_sequence()
        for _ in range(2):
            reached = rebuild(system.engine, app.store.recorder, app.store.mapper, page=page)
            assert set(reached.values()) <= {head}
            assert read_models(system.engine) == live[head]
        until = data.draw(st.sampled_from(sorted(live)), label="until")
        with scratch_engine() as scratch:
            rebuild(scratch, app.store.recorder, app.store.mapper, until=until, page=page)
            assert read_models(scratch) == live[until]
        state = state_at(app.store.recorder, app.store.mapper, until)
        for name in ROW_KINDS:
            assert canonical({name: state[name]}) == live[until][name]


# Kinds served as their read model's rows. Accounts are served as totals computed from
# several tables (today's P&L, ...); tests/integration/test_cli_replay.py and
# test_accounts.py check those at a past sequence.
ROW_KINDS = [kind for kind in STATE_ORDER if kind != "accounts"]


def cli_json(kind: str, rows: list[dict[str, Any]]) -> list[str]:
    return sorted(json.dumps(graphql_object(kind, row), sort_keys=True) for row in rows)


OPENING = [
    Command("order", ("default", "ACME", "BUY", D(2), None)),
    Command("fill", (0, D("0.5"), D(100), D(0))),
]


@pytest.mark.slow
@share(0.03, store=True)
@given(st.lists(any_command, max_size=15), st.data())
def test_the_replay_command_shows_the_live_state_of_any_sequence(store_dir, commands, data):
    with sqlite_system(store_dir, broker=FixedBroker()) as system:
        heads: dict[int, dict[str, list[str]]] = {0: {kind: [] for kind in ROW_KINDS}}
        driver = Runner(system.commands)
        runners = [
            ProjectionRunner(p, system.engine, system.app.recorder, system.app.mapper)
            for p in ALL_PROJECTIONS
        ]
        for number, step in enumerate([*OPENING, *commands]):
            driver.run(number, step)
            for runner in runners:
                runner.catch_up()
            with system.engine.connect() as connection:
                heads[system.app.head_sequence()] = {
                    kind: cli_json(kind, projection_rows(connection, kind)[kind])
                    for kind in ROW_KINDS
                }
        url = system.settings.database_url
        # a sequence whose state the next command changed (0, at least: the opening order)
        keys = sorted(heads)
        changed = [k for k, later in zip(keys, keys[1:], strict=False) if heads[k] != heads[later]]
        until = data.draw(st.sampled_from(changed), label="until")
        shown = tradestate(
            "replay", "--until-sequence", str(until), "--format", "json", "--db", url
        )
        assert shown.returncode == 0, shown.stderr
        document = json.loads(shown.stdout)
        assert document["sequence"] == until
        for kind in ROW_KINDS:
            assert (
                sorted(json.dumps(o, sort_keys=True) for o in document[kind]) == heads[until][kind]
            )
