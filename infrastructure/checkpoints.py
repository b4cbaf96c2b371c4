"""Read-model checkpoints for time travel (ADR 017, format 2: ADR 023).

A checkpoint is the state `replay --until-*` shows (positions, orders,
signals, monitors, account totals) at a sequence that is a multiple of K,
taken from the scratch database a replay builds (always SQLite, so its raw
column values round-trip exactly), stored in the source database in parts of
a few thousand rows (zlib-compressed) with a SHA-256 digest, and the time
range of the events since the previous checkpoint. Its parts, in order:

- "rows" parts: each state table's raw rows, to restore into a scratch
  database (all of them, or only the rows of the aggregates the events after
  the checkpoint touch: `restore(only=...)`);
- "lines" parts: each listed kind's rows already written as the output's JSON
  (`encode`), in the output's order, with each row's raw sort key and id, so
  time travel streams the unchanged rows out without decoding them (`merged`);
- a manifest (the last part): which parts hold each kind's lines.

A listed kind's rows parts are in the output's order too, so the rows changed
between two checkpoints fall in a few parts (most are new orders, at the end).
The digest is a SHA-256 over each part's SHA-256 (format 3, ADR 025): audit verify
checks a checkpoint part by part, and computes again only the parts that rows
changed since the previous checkpoint touch (infrastructure/checkpoint_check.py).
Each distinct part is stored once, keyed by its SHA-256 (ADR 027): a checkpoint
grown from the one before shares every part no change fell in, so the store grows
by what changed between checkpoints, not by the whole state at each.

Checkpoints are derived data: time travel makes the ones it passes,
`replay --rebuild` remakes them all, and one that does not match its digest
(or cannot be read) is ignored with a warning and replaced, so the replay
falls back to an earlier one or to the log itself.
"""

from __future__ import annotations

import hashlib
import warnings
import zlib
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import orjson
from sqlalchemy import Connection, Engine, delete, insert, literal_column, select, text, update
from sqlalchemy.exc import DBAPIError, IntegrityError

from infrastructure.checkpoint_skim import LinesKeys, touched_rows
from infrastructure.projections.tracking import active_slot, reset
from infrastructure.readmodels import (
    checkpoints_table,
    projection_tables,
    tracking_name,
    tracking_table,
)
from infrastructure.readmodels.derived import checkpoint_blobs_table, checkpoint_parts_table

EVERY = 10_000
PART_ROWS = 5_000
FORMAT = 3  # in the digest: a checkpoint of another format fails it and is remade
STATE = ("positions", "orders", "signals", "monitors", "accounts")
# The kinds time travel lists row by row, each in the API's order. Their rows are
# keyed by the id of the aggregate whose events make them (`id`).
LISTED = {
    "positions": ("account", "instrument"),
    "orders": ("created_at", "client_order_id"),
    "signals": ("created_at", "id"),
    "monitors": ("created_at", "id"),
}
Row = dict[str, Any]
#: The slot each state projection is read from, where not its active one (a
#: rebuild's checkpoints are its idle slots' state, before the swap).
Slots = Mapping[str, str]
Encode = Callable[[str, Row], bytes]  # a listed kind's row as the output's JSON


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
        connection.execute(delete(checkpoint_blobs_table))


@dataclass(frozen=True)
class Shared:
    """A part given by its `part_digest` alone: the bytes of a part already stored
    (checked when it was made or read), which a checkpoint being saved shares."""

    digest: bytes


PartToSave = bytes | Shared  # a part's bytes, or one already stored


def _data(*where: Any) -> Any:
    """The bytes of the parts `where` selects, in order."""
    parts, blobs = checkpoint_parts_table, checkpoint_blobs_table
    return (
        select(blobs.c.data)
        .join_from(parts, blobs, parts.c.digest == blobs.c.digest)
        .where(*where)
        .order_by(parts.c.part)
    )


def blob(source: Engine, digest: bytes) -> bytes:
    """A stored part's bytes by its `part_digest` (b"": none)."""
    statement = select(checkpoint_blobs_table.c.data).where(
        checkpoint_blobs_table.c.digest == digest.hex()
    )
    with source.connect() as reader:
        return bytes(reader.scalar(statement) or b"")


def _state_tables(connection: Connection, slots: Slots | None = None) -> dict[str, Any]:
    """Each state table, by its slotless name: of the slot `slots` names for its
    projection, else of the active one."""
    found = {}
    for projection in STATE:
        slot = slots[projection] if slots else active_slot(connection, projection)
        for table in projection_tables(slot).of(projection):
            found[table.name.removesuffix(f"_{slot}")] = table
    return found


def capture(
    scratch: Engine,
    encode: Encode,
    previous: tuple[Engine, Checkpoint] | None = None,
    slots: Slots | None = None,
) -> Iterator[bytes]:
    """The scratch database's state, a part at a time: rows, lines, then the manifest.

    With `previous` (a checkpoint this state grew from, known good), the lines of
    rows unchanged since then are taken from it rather than encoded again; the
    parts are the same bytes either way."""
    manifest: dict[str, list[int]] = {}
    count = 0
    with scratch.connect() as connection:
        tables = _state_tables(connection, slots)
        for name, table in tables.items():
            order = order_by(name, table)
            result = connection.exec_driver_sql(f"SELECT * FROM {table.name} {order}")
            columns = list(result.keys())
            while rows := result.fetchmany(PART_ROWS):
                count += 1
                yield rows_part(name, columns, [list(r) for r in rows])
        for kind in LISTED:
            first = count + 1
            chunks: Iterator[Run]
            if previous is None:
                chunks = _encoded(connection, tables[f"rm_{kind}"], kind, encode)
            else:
                source, checkpoint = previous
                changed = scratch_keyed(scratch, kind, encode, checkpoint.sequence, slots)
                chunks = _merged(source, checkpoint, kind, changed)
            for keys, bodies in _parts(chunks):
                count += 1
                yield lines_part(kind, keys, bodies)
            manifest[kind] = [first, count]
    yield manifest_part(manifest)


def order_by(name: str, table: Any) -> str:
    """The order of a state table's rows parts: a listed kind's output order, else its
    primary key. The same state gives the same bytes (audit verify compares digests)."""
    kind = name.removeprefix("rm_")
    columns = (*LISTED[kind], "id") if kind in LISTED else table.primary_key.columns.keys()
    return "ORDER BY " + ", ".join(f'"{column}"' for column in columns)


def rows_part(name: str, columns: list[str], rows: list[list[Any]]) -> bytes:
    return zlib.compress(orjson.dumps({"table": name, "columns": columns, "rows": rows}), 1)


def lines_part(kind: str, keys: list[Any], bodies: list[bytes]) -> bytes:
    head = orjson.dumps({"lines": kind, "keys": keys})
    return zlib.compress(head + b"\n" + b"\n".join(bodies), 1)


def manifest_part(manifest: dict[str, list[int]]) -> bytes:
    return zlib.compress(orjson.dumps({"manifest": manifest}), 1)


Chunk = tuple[list[Any], list[bytes]]  # rows' sort keys and their JSON, in order
# As a Chunk, or a stored part's keys and lines still joined by newlines (neither
# decoded nor split when none of its rows changed).
Run = tuple[list[Any] | LinesKeys, list[bytes] | bytes]


def _parts(chunks: Iterable[Run]) -> Iterator[Chunk]:
    """The chunks' rows cut into parts of exactly PART_ROWS (the last one fewer)."""
    keys: list[Any] = []
    bodies: list[bytes] = []
    for more_keys, more_bodies in chunks:
        if not more_keys:
            continue
        keys += more_keys
        bodies += more_bodies.split(b"\n") if isinstance(more_bodies, bytes) else more_bodies
        while len(keys) >= PART_ROWS:
            yield keys[:PART_ROWS], bodies[:PART_ROWS]
            keys, bodies = keys[PART_ROWS:], bodies[PART_ROWS:]
    if keys:
        yield keys, bodies


def _encoded(
    connection: Connection, table: Any, kind: str, encode: Encode, since: int = -1
) -> Iterator[Chunk]:
    """A listed table's rows in the output's order (those changed after `since`), a
    part at a time: each row's sort key (raw values, then the raw id) and its JSON."""
    raw: list[Any] = [literal_column(f'"{column}"') for column in (*LISTED[kind], "id")]
    statement = select(table, *raw).where(table.c.as_of > since).order_by(*raw)
    result = connection.execution_options(yield_per=PART_ROWS).execute(statement)
    width = len(table.c)
    names = table.c.keys()
    for rows in result.partitions():
        keys = [list(row[width:]) for row in rows]
        bodies = [
            _compact(encode(kind, dict(zip(names, row[:width], strict=True)))) for row in rows
        ]
        yield keys, bodies


def _compact(body: bytes) -> bytes:
    """`body` in a buffer of its own size. orjson's output keeps the buffer it was
    written in, 4-8 KB for a row of a few hundred bytes, and a part holds thousands
    of rows: 40 MB for 5 000 orders, where their JSON is 2 MB."""
    return bytes(memoryview(body))


def scratch_keyed(
    scratch: Engine, kind: str, encode: Encode, since: int = -1, slots: Slots | None = None
) -> list[tuple[list[Any], bytes]]:
    """The rows of a listed kind in a scratch database (changed after `since`), as
    (sort key, JSON), in order."""
    with scratch.connect() as connection:
        table = _state_tables(connection, slots)[f"rm_{kind}"]
        return [
            (key, body)
            for keys, bodies in _encoded(connection, table, kind, encode, since)
            for key, body in zip(keys, bodies, strict=True)
        ]


def merged(
    source: Engine, checkpoint: Checkpoint, scratch: Engine, kind: str, encode: Encode
) -> Iterator[bytes]:
    """A listed kind's JSON rows at the scratch database's sequence, in order, as
    comma-joined runs: the checkpoint's lines, except those of rows the scratch
    database holds (restored with `only`, or new), merged with the scratch rows,
    encoded."""
    for keys, bodies in _merged(source, checkpoint, kind, scratch_keyed(scratch, kind, encode)):
        if not keys:
            continue
        yield bodies.replace(b"\n", b",") if isinstance(bodies, bytes) else b",".join(bodies)


def _merged(
    source: Engine, checkpoint: Checkpoint, kind: str, own: list[tuple[list[Any], bytes]]
) -> Iterator[Run]:
    """The checkpoint's lines of `kind` with `own` rows in their place or added."""
    replaced = {key[-1] for key, _ in own}
    replaced_raw = {str(found).encode() for found in replaced}
    i, end = 0, len(own)
    for keys, lines in _lines(source, checkpoint, kind):
        if not keys:
            continue
        before = i == end or own[i][0] > keys.last()
        if before and replaced_raw.isdisjoint(keys.ids()):
            yield keys, lines  # nothing of this part changed since the checkpoint
            continue
        out_keys: list[Any] = []
        out_bodies: list[bytes] = []
        for key, body in zip(keys, lines.split(b"\n"), strict=True):
            while i < end and own[i][0] < key:
                out_keys.append(own[i][0])
                out_bodies.append(own[i][1])
                i += 1
            if key[-1] not in replaced:
                out_keys.append(key)
                out_bodies.append(body)
        yield out_keys, out_bodies
    if i < end:
        yield [key for key, _ in own[i:]], [body for _, body in own[i:]]


def _lines(source: Engine, checkpoint: Checkpoint, kind: str) -> Iterator[tuple[LinesKeys, bytes]]:
    """The lines parts of `kind`, each its keys and its lines joined by newlines (read
    after `restore` checked the digest)."""
    part, sequence = checkpoint_parts_table.c.part, checkpoint_parts_table.c.sequence
    with source.connect() as reader:
        statement = _data(sequence == checkpoint.sequence, part == checkpoint.parts)
        manifest = _unpacked(reader.scalar(statement))["manifest"]
        first, last = manifest[kind]
        statement = _data(sequence == checkpoint.sequence, part >= first, part <= last)
        for (data,) in reader.execution_options(yield_per=4).execute(statement):
            head, _, body = zlib.decompress(data).partition(b"\n")
            lines = body.count(b"\n") + 1
            keys = LinesKeys(head, rows=lines)
            if keys and lines != len(keys):
                raise CorruptCheckpoint(f"checkpoint {checkpoint.sequence}: a lines part is cut")
            yield keys, body


def _unpacked(data: bytes | None) -> Any:
    try:
        return orjson.loads(zlib.decompress(data or b""))
    except (zlib.error, orjson.JSONDecodeError) as error:
        raise CorruptCheckpoint(f"unreadable checkpoint part: {error!r}") from None


def _digest(sequence: int) -> Any:
    """The checkpoint's digest, to be updated with each part's `part_digest`."""
    return hashlib.sha256(b"tradestate-checkpoint-v%d:%d:" % (FORMAT, sequence))


def part_digest(data: bytes) -> bytes:
    return hashlib.sha256(data).digest()


def combined(sequence: int, digests: Iterable[bytes]) -> str:
    """The digest of a checkpoint at `sequence` whose parts have these `part_digest`s."""
    digest = _digest(sequence)
    for one in digests:
        digest.update(one)
    return str(digest.hexdigest())


def older_format(sequence: int, parts: Iterable[bytes], stored: str) -> int | None:
    """The earlier format whose digest `parts` match, if any: the checkpoint was made
    by an earlier version, not altered. Formats 1 and 2 hashed the parts' bytes in a
    row, after a seed naming the format (format 1's named none)."""
    earlier = {
        1: hashlib.sha256(b"tradestate-checkpoint:%d:" % sequence),
        2: hashlib.sha256(b"tradestate-checkpoint-v2:%d:" % sequence),
    }
    for data in parts:
        for digest in earlier.values():
            digest.update(data)
    return next((f for f, digest in earlier.items() if digest.hexdigest() == stored), None)


def digest_of(sequence: int, parts: Iterable[bytes]) -> tuple[str, int]:
    """The digest of a checkpoint at `sequence` made of `parts`, and their count."""
    digests = [part_digest(data) for data in parts]
    return combined(sequence, digests), len(digests)


def stored_parts(source: Engine, sequence: int) -> Iterator[bytes]:
    """The parts of the checkpoint at `sequence`, as stored, in order."""
    statement = _data(checkpoint_parts_table.c.sequence == sequence)
    with source.connect() as reader:
        for (data,) in reader.execution_options(yield_per=4).execute(statement):
            yield data


def part_digests(source: Engine, sequence: int, checked: dict[str, bytes]) -> list[bytes]:
    """The `part_digest` of each part of the checkpoint at `sequence`, computed from
    its bytes, each distinct part's once (`checked`: a part's key to its digest)."""
    parts, blobs = checkpoint_parts_table, checkpoint_blobs_table
    statement = select(parts.c.digest).where(parts.c.sequence == sequence).order_by(parts.c.part)
    with source.connect() as reader:
        keys = list(reader.scalars(statement))
        for key in keys:
            if key not in checked:
                data = reader.scalar(select(blobs.c.data).where(blobs.c.digest == key))
                checked[key] = part_digest(bytes(data or b""))
    return [checked[key] for key in keys]


# A part's bytes, once per digest. Bytes that differ from their digest (altered by
# hand) are written again, which repairs every checkpoint that shares them.
_PUT_BLOB = text(
    "INSERT INTO rm_checkpoint_blobs (digest, data) VALUES (:digest, :data) "
    "ON CONFLICT (digest) DO UPDATE SET data = excluded.data "
    "WHERE rm_checkpoint_blobs.data <> excluded.data"
)
# The parts only the checkpoint being replaced held.
_DROP_UNSHARED = text(
    "DELETE FROM rm_checkpoint_blobs WHERE digest = :digest AND NOT EXISTS "
    "(SELECT 1 FROM rm_checkpoint_parts p WHERE p.digest = :digest)"
)


def save(
    source: Engine, sequence: int, times: tuple[datetime, datetime], parts: Iterable[PartToSave]
) -> None:
    """Store (or replace) the checkpoint at `sequence`: each part's bytes once, shared
    with the checkpoints that hold the same part."""
    digest = _digest(sequence)
    table = checkpoint_parts_table
    try:
        with source.begin() as connection:
            key = checkpoints_table.c.sequence == sequence
            connection.execute(delete(checkpoints_table).where(key))
            replaced = set(
                connection.scalars(select(table.c.digest).where(table.c.sequence == sequence))
            )
            connection.execute(delete(table).where(table.c.sequence == sequence))
            count = 0
            for count, item in enumerate(parts, start=1):
                if isinstance(item, Shared):
                    one = item.digest
                else:
                    one = part_digest(item)
                    connection.execute(_PUT_BLOB, {"digest": one.hex(), "data": item})
                digest.update(one)
                connection.execute(
                    insert(table).values(sequence=sequence, part=count, digest=one.hex())
                )
            for gone in replaced:
                connection.execute(_DROP_UNSHARED, {"digest": gone})
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
        # Another process stored the same checkpoint at the same time, or (PostgreSQL's
        # foreign key) dropped a part this one shares as it stored another again.
        # Either way this one is not stored; time travel makes it when it next passes.
        return


def restore(
    source: Engine, checkpoint: Checkpoint, scratch: Engine, only: set[str] | None = None
) -> None:
    """Load `checkpoint` into the scratch database's active slots, tracking included;
    CorruptCheckpoint (and nothing loaded) when it does not match its digest.

    With `only` (raw ids: UUIDs' hex), a listed kind's rows are loaded only for
    those ids: the aggregates the events after the checkpoint touch. Its other
    rows are then read from the lines parts (`merged`)."""
    digest, count = _digest(checkpoint.sequence), 0
    wanted = None if only is None else frozenset(raw.encode() for raw in only)
    parts = _data(checkpoint_parts_table.c.sequence == checkpoint.sequence)
    refused: DBAPIError | None = None  # rows the scratch database would not take
    with source.connect() as reader, scratch.begin() as writer:
        tables = _state_tables(writer)
        for (data,) in reader.execution_options(yield_per=4).execute(parts):
            digest.update(part_digest(data))
            count += 1
            if refused is not None:
                continue  # hashed only, to tell an altered checkpoint from a bad one
            try:
                _load_part(writer, tables, data, wanted)
            except CorruptCheckpoint as error:
                raise CorruptCheckpoint(f"checkpoint {checkpoint.sequence}: {error}") from None
            except DBAPIError as error:  # e.g. the same rows twice: a part listed twice
                refused = error
        if count != checkpoint.parts or digest.hexdigest() != checkpoint.digest:
            raise CorruptCheckpoint(_mismatch(source, checkpoint))
        if refused is not None:
            raise CorruptCheckpoint(
                f"checkpoint {checkpoint.sequence}: its rows do not load: {refused.orig}"
            )
        for projection in STATE:
            slot = active_slot(writer, projection)
            reset(writer, projection, slot)
            writer.execute(
                update(tracking_table)
                .where(tracking_table.c.name == tracking_name(projection, slot))
                .values(notification_id=checkpoint.sequence)
            )


_ROWS_PART = b'{"table"'
_ROWS_KEY = b',"rows":'  # after "table" and "columns", as `capture` writes them


def _load_part(
    writer: Connection, tables: dict[str, Any], data: bytes, only: frozenset[bytes] | None
) -> None:
    try:
        if not zlib.decompressobj().decompress(data, len(_ROWS_PART)).startswith(_ROWS_PART):
            return  # lines or the manifest: read by `merged`
        name, columns, rows = _rows_part(zlib.decompress(data), only)
        table = tables[name]
    except (zlib.error, ValueError, KeyError, TypeError) as error:  # JSONDecodeError too
        raise CorruptCheckpoint(f"unreadable checkpoint part: {error!r}") from None
    if not set(columns) <= set(table.c.keys()):
        raise CorruptCheckpoint(f"unknown columns in checkpoint part of {name}")
    if not rows:
        return
    names = ", ".join(f'"{c}"' for c in columns)
    marks = ", ".join("?" * len(columns))
    writer.exec_driver_sql(
        f"INSERT INTO {table.name} ({names}) VALUES ({marks})", [tuple(r) for r in rows]
    )


def _rows_part(
    text: bytes, only: frozenset[bytes] | None
) -> tuple[str, list[str], list[list[Any]]]:
    """A rows part's table, columns and rows; with `only` (raw ids, encoded), a listed
    table's rows are those of the ids in `only`."""
    header, found, rows = text.partition(_ROWS_KEY)
    if not found:
        part = orjson.loads(text)
        return part["table"], part["columns"], part["rows"]
    head = orjson.loads(header + b"}")
    name, columns = head["table"], head["columns"]
    rows = rows.removesuffix(b"}")
    if only is None or name.removeprefix("rm_") not in LISTED:
        return name, columns, orjson.loads(rows)
    return name, columns, touched_rows(rows, columns, only)


def _mismatch(source: Engine, checkpoint: Checkpoint) -> str:
    """Why `checkpoint` fails its digest: made by an earlier version, or altered."""
    made_by = older_format(
        checkpoint.sequence, stored_parts(source, checkpoint.sequence), checkpoint.digest
    )
    if made_by is not None:
        return f"checkpoint {checkpoint.sequence} is of an earlier format ({made_by})"
    return f"checkpoint {checkpoint.sequence} does not match its digest"


def warn_corrupt(error: CorruptCheckpoint) -> None:
    warnings.warn(
        f"{error}; ignored, replaying from an earlier point", CorruptCheckpointWarning, stacklevel=2
    )
