"""Read-model checkpoints for time travel (ADR 017).

A checkpoint is the state `replay --until-*` shows (positions, orders,
signals, monitors) at a sequence that is a multiple of K, taken from the
scratch database a replay builds (always SQLite, so its raw column values
round-trip exactly), stored in the source database in parts of a few
thousand rows (zlib-compressed JSON) with a SHA-256 digest, and the time
range of the events since the previous checkpoint.

Checkpoints are derived data: time travel makes the ones it passes,
`replay --rebuild` remakes them all, and one that does not match its digest
(or cannot be read) is ignored with a warning and replaced, so the replay
falls back to an earlier one or to the log itself.
"""

from __future__ import annotations

import hashlib
import warnings
import zlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import orjson
from sqlalchemy import Connection, Engine, delete, insert, select, text, update
from sqlalchemy.exc import IntegrityError

from infrastructure.projections.tracking import active_slot, reset
from infrastructure.readmodels import (
    checkpoints_table,
    projection_tables,
    tracking_name,
    tracking_table,
)
from infrastructure.readmodels.derived import checkpoint_parts_table

EVERY = 50_000
PART_ROWS = 5_000
STATE = ("positions", "orders", "signals", "monitors", "accounts")


class CorruptCheckpoint(ValueError):
    """A checkpoint whose parts do not match its digest, or cannot be read."""


class CorruptCheckpointWarning(UserWarning):
    """A checkpoint was ignored: time travel started from an earlier point."""


@dataclass(frozen=True)
class Checkpoint:
    sequence: int
    min_time: datetime
    max_time: datetime
    digest: str
    parts: int


def _checkpoint(row: Any) -> Checkpoint:
    return Checkpoint(row.sequence, row.min_time, row.max_time, row.digest, row.parts)


def at_or_before(source: Engine, sequence: int) -> Iterator[Checkpoint]:
    """The checkpoints at or before `sequence`, nearest first."""
    statement = (
        select(checkpoints_table)
        .where(checkpoints_table.c.sequence <= sequence)
        .order_by(checkpoints_table.c.sequence.desc())
    )
    with source.connect() as connection:
        rows = connection.execute(statement).fetchall()  # one row per K events
    yield from map(_checkpoint, rows)


def latest_starting_by(source: Engine, when: datetime) -> Checkpoint | None:
    """The newest checkpoint whose range (events since the previous one) holds an
    event at or before `when`: the last such event is in it or after it."""
    statement = (
        select(checkpoints_table)
        .where(checkpoints_table.c.min_time <= when)
        .order_by(checkpoints_table.c.sequence.desc())
        .limit(1)
    )
    with source.connect() as connection:
        row = connection.execute(statement).first()
    return None if row is None else _checkpoint(row)


def latest(source: Engine) -> int:
    with source.connect() as connection:
        statement = select(checkpoints_table.c.sequence).order_by(
            checkpoints_table.c.sequence.desc()
        )
        return connection.scalar(statement.limit(1)) or 0


def previous(source: Engine, sequence: int) -> int:
    """The sequence of the checkpoint before `sequence` (0: none)."""
    with source.connect() as connection:
        statement = (
            select(checkpoints_table.c.sequence)
            .where(checkpoints_table.c.sequence < sequence)
            .order_by(checkpoints_table.c.sequence.desc())
        )
        return connection.scalar(statement.limit(1)) or 0


def drop_all(source: Engine) -> None:
    with source.begin() as connection:
        connection.execute(delete(checkpoint_parts_table))
        connection.execute(delete(checkpoints_table))


def _state_tables(connection: Connection) -> dict[str, Any]:
    """Each state table of the scratch database's active slots, by its slotless name."""
    found = {}
    for projection in STATE:
        slot = active_slot(connection, projection)
        for table in projection_tables(slot).of(projection):
            found[table.name.removesuffix(f"_{slot}")] = table
    return found


def capture(scratch: Engine) -> Iterator[bytes]:
    """The scratch database's state, a part at a time."""
    with scratch.connect() as connection:
        for name, table in _state_tables(connection).items():
            result = connection.exec_driver_sql(f"SELECT * FROM {table.name}")
            columns = list(result.keys())
            while rows := result.fetchmany(PART_ROWS):
                part = {"table": name, "columns": columns, "rows": [list(r) for r in rows]}
                yield zlib.compress(orjson.dumps(part), 1)


def _digest(sequence: int) -> Any:
    return hashlib.sha256(b"tradestate-checkpoint:%d:" % sequence)


def save(
    source: Engine, sequence: int, times: tuple[datetime, datetime], parts: Iterable[bytes]
) -> None:
    """Store (or replace) the checkpoint at `sequence`."""
    digest = _digest(sequence)
    try:
        with source.begin() as connection:
            key = checkpoints_table.c.sequence == sequence
            connection.execute(delete(checkpoints_table).where(key))
            connection.execute(
                delete(checkpoint_parts_table).where(checkpoint_parts_table.c.sequence == sequence)
            )
            count = 0
            for count, data in enumerate(parts, start=1):
                digest.update(data)
                connection.execute(
                    insert(checkpoint_parts_table).values(sequence=sequence, part=count, data=data)
                )
            connection.execute(
                insert(checkpoints_table).values(
                    sequence=sequence,
                    min_time=times[0],
                    max_time=times[1],
                    digest=digest.hexdigest(),
                    parts=count,
                )
            )
    except IntegrityError:
        return  # another process stored the same checkpoint at the same time


def restore(source: Engine, checkpoint: Checkpoint, scratch: Engine) -> None:
    """Load `checkpoint` into the scratch database's active slots, tracking included;
    CorruptCheckpoint (and nothing loaded) when it does not match its digest."""
    digest, count = _digest(checkpoint.sequence), 0
    parts = (
        select(checkpoint_parts_table.c.data)
        .where(checkpoint_parts_table.c.sequence == checkpoint.sequence)
        .order_by(checkpoint_parts_table.c.part)
    )
    with source.connect() as reader, scratch.begin() as writer:
        tables = _state_tables(writer)
        for (data,) in reader.execution_options(yield_per=4).execute(parts):
            digest.update(data)
            count += 1
            try:
                _load_part(writer, tables, data)
            except CorruptCheckpoint as error:
                raise CorruptCheckpoint(f"checkpoint {checkpoint.sequence}: {error}") from None
        if count != checkpoint.parts or digest.hexdigest() != checkpoint.digest:
            raise CorruptCheckpoint(f"checkpoint {checkpoint.sequence} does not match its digest")
        for projection in STATE:
            slot = active_slot(writer, projection)
            reset(writer, projection, slot)
            writer.execute(
                update(tracking_table)
                .where(tracking_table.c.name == tracking_name(projection, slot))
                .values(notification_id=checkpoint.sequence)
            )


def _load_part(writer: Connection, tables: dict[str, Any], data: bytes) -> None:
    try:
        part = orjson.loads(zlib.decompress(data))
        table = tables[part["table"]]
        columns = part["columns"]
    except (zlib.error, orjson.JSONDecodeError, KeyError, TypeError) as error:
        raise CorruptCheckpoint(f"unreadable checkpoint part: {error!r}") from None
    if not set(columns) <= set(table.c.keys()):
        raise CorruptCheckpoint(f"unknown columns in checkpoint part of {part['table']}")
    names = ", ".join(f'"{c}"' for c in columns)
    marks = ", ".join("?" * len(columns))
    writer.exec_driver_sql(
        f"INSERT INTO {table.name} ({names}) VALUES ({marks})", [tuple(r) for r in part["rows"]]
    )


def time_range(source: Engine, after: int, upto: int) -> tuple[datetime, datetime]:
    """The earliest and latest event timestamps with after < sequence <= upto."""
    if source.dialect.name == "sqlite":
        stamp = "json_extract(CAST(state AS TEXT), '$.timestamp._data_')"
        query = f"SELECT MIN({stamp}), MAX({stamp}) FROM stored_events "
        query += "WHERE rowid > :after AND rowid <= :upto"
    else:
        stamp = "(convert_from(state, 'UTF8')::jsonb -> 'timestamp' ->> '_data_')::timestamptz"
        query = f"SELECT MIN({stamp}), MAX({stamp}) FROM tradestate_events "
        query += "WHERE notification_id > :after AND notification_id <= :upto"
    with source.connect() as connection:
        low, high = connection.execute(text(query), {"after": after, "upto": upto}).one()
    if isinstance(low, str):
        low, high = datetime.fromisoformat(low), datetime.fromisoformat(high)
    return low, high


def warn_corrupt(error: CorruptCheckpoint) -> None:
    warnings.warn(
        f"{error}; ignored, replaying from an earlier point", CorruptCheckpointWarning, stacklevel=2
    )
