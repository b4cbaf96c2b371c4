"""Migration 0006: checkpoint parts stored before it move to one blob per distinct part,
the checkpoints still match their digests, and downgrading puts every part's bytes
back, on both engines."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime

import sqlalchemy as sa

from infrastructure import checkpoints
from infrastructure.database import DatabaseUrl, make_engine
from infrastructure.migrate import upgrade
from tests.integration.test_migration_as_of import _downgrade_to, _upgrade_to

PARTS = {10: [b"shared", b"first", b"manifest"], 20: [b"shared", b"second", b"manifest"]}


def _digest(sequence: int, parts: list[bytes]) -> str:
    return checkpoints.combined(sequence, [hashlib.sha256(data).digest() for data in parts])


def _parts_by_sequence(connection: sa.Connection) -> dict[int, list[bytes]]:
    rows = connection.execute(
        sa.text("SELECT sequence, data FROM rm_checkpoint_parts ORDER BY sequence, part")
    )
    found: dict[int, list[bytes]] = {}
    for sequence, data in rows:
        found.setdefault(sequence, []).append(bytes(data))
    return found


def test_parts_stored_before_0006_are_shared_and_still_match(database_url: str) -> None:
    _upgrade_to(database_url, "0005")
    engine = make_engine(DatabaseUrl(database_url))
    now = datetime.now(UTC)
    try:
        with engine.begin() as connection:
            for sequence, parts in PARTS.items():
                connection.execute(
                    sa.text(
                        "INSERT INTO rm_checkpoints (sequence, min_time, max_time, digest, parts) "
                        "VALUES (:s, :t, :t, :d, :n)"
                    ),
                    {"s": sequence, "t": now, "d": _digest(sequence, parts), "n": len(parts)},
                )
                for number, data in enumerate(parts, start=1):
                    connection.execute(
                        sa.text(
                            "INSERT INTO rm_checkpoint_parts (sequence, part, data) "
                            "VALUES (:s, :p, :d)"
                        ),
                        {"s": sequence, "p": number, "d": data},
                    )
        upgrade(database_url)
        with engine.connect() as connection:
            blobs = connection.execute(sa.text("SELECT count(*) FROM rm_checkpoint_blobs"))
            assert blobs.scalar() == 4  # "shared" and "manifest" once
        checked: dict[str, bytes] = {}
        for checkpoint in checkpoints.at_or_before(engine, 20):
            parts = PARTS[checkpoint.sequence]
            assert list(checkpoints.stored_parts(engine, checkpoint.sequence)) == parts
            digests = checkpoints.part_digests(engine, checkpoint.sequence, checked)
            assert checkpoints.combined(checkpoint.sequence, digests) == checkpoint.digest
        assert len(checked) == 4  # each distinct part read once

        _downgrade_to(database_url, "0005")
        with engine.connect() as connection:
            assert _parts_by_sequence(connection) == PARTS
    finally:
        engine.dispose()
