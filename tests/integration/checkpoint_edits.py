"""Checkpoints altered by hand in the database, for the tests: a part's bytes read,
repointed to other bytes (as a forger who keeps each part's key honest would), or a
stored part's bytes overwritten in place (shared by every checkpoint that holds it)."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from sqlalchemy import Connection, Engine, select, update

from infrastructure import checkpoint_check, checkpoints
from infrastructure.readmodels import checkpoints_table
from infrastructure.readmodels.derived import checkpoint_blobs_table, checkpoint_parts_table
from infrastructure.replay import remake_checkpoints
from infrastructure.settings import load_settings
from interfaces.cli.render import graphql_json
from interfaces.composition import System, build_system
from tests.integration.workload import run_workload

PARTS, BLOBS = checkpoint_parts_table, checkpoint_blobs_table


@contextmanager
def checkpointed_system(
    database_url: str, monkeypatch: pytest.MonkeyPatch, every: int, rows: int
) -> Iterator[System]:
    """A store after a workload, with a checkpoint every `every` events in parts of
    `rows` rows: many parts, most of them shared with the checkpoint before."""
    monkeypatch.setattr(checkpoints, "PART_ROWS", rows)
    monkeypatch.setattr(checkpoint_check, "PART_ROWS", rows)
    system = build_system(load_settings(database_url=database_url))
    try:
        run_workload(system.commands, rounds=40)
        made = remake_checkpoints(
            system.engine, system.app.recorder, system.app.mapper, graphql_json, every=every
        )
        assert made >= 4
        yield system
    finally:
        system.close()


def stored(engine: Engine, sequence: int) -> list[bytes]:
    """The bytes of each part of the checkpoint at `sequence`, in order."""
    return list(checkpoints.stored_parts(engine, sequence))


def keys(connection: Connection, sequence: int) -> list[str]:
    """The blob key of each part of the checkpoint at `sequence`, in order."""
    statement = select(PARTS.c.digest).where(PARTS.c.sequence == sequence).order_by(PARTS.c.part)
    return list(connection.scalars(statement))


def repoint(connection: Connection, sequence: int, number: int, data: bytes) -> None:
    """Part `number` of the checkpoint at `sequence` made `data`, in a blob of its own
    (the others that held the old bytes keep them)."""
    key = hashlib.sha256(data).hexdigest()
    if connection.scalar(select(BLOBS.c.digest).where(BLOBS.c.digest == key)) is None:
        connection.execute(BLOBS.insert().values(digest=key, data=data))
    connection.execute(
        update(PARTS).where(PARTS.c.sequence == sequence, PARTS.c.part == number).values(digest=key)
    )


def overwrite(connection: Connection, key: str, data: bytes) -> None:
    """The stored part `key` overwritten in place with `data`."""
    connection.execute(update(BLOBS).where(BLOBS.c.digest == key).values(data=data))


def redigest(engine: Engine, sequence: int) -> None:
    """The checkpoint's digest recomputed from its parts, as a careful forger would."""
    digest, _ = checkpoints.digest_of(sequence, stored(engine, sequence))
    with engine.begin() as connection:
        connection.execute(
            update(checkpoints_table)
            .where(checkpoints_table.c.sequence == sequence)
            .values(digest=digest)
        )
