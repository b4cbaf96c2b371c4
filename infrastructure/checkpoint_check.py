"""What a checkpoint should hold, part by part, from a replay (audit verify's check 4,
ADR 025).

A fresh capture of the replay at every checkpoint read, encoded and compressed the
whole state each time: O(log × state / K) in all. Here the expected parts grow from
the last checkpoint found good instead. A listed kind's parts are in the output's
order, so the rows the replay changed since then (`as_of` after it) fall in a few of
them: only those are read back (from that checkpoint, whose parts were found equal
to the replay's), merged with the changed rows, cut again and hashed. Every other
part is known by its digest alone. The small tables that are not listed (accounts)
are read whole, as `capture` reads them.

This rests on a listed row keeping its sort key (`LISTED`) and never being deleted.
The row counts check that: a row that moved or went away leaves the expected parts
with more rows than the replay's table, and then they are computed from all rows.
"""

from __future__ import annotations

import heapq
import zlib
from collections.abc import Callable, Generator, Iterator
from dataclasses import dataclass
from functools import partial
from itertools import islice
from typing import Any

import orjson
from sqlalchemy import Connection, Engine

from infrastructure.checkpoints import (
    LISTED,
    PART_ROWS,
    CorruptCheckpoint,
    Encode,
    PartToSave,
    Shared,
    Slots,
    _encoded,
    _state_tables,
    blob,
    lines_part,
    manifest_part,
    order_by,
    part_digest,
    rows_part,
)

Item = tuple[list[Any], Any]  # a row's sort key, and its raw values or its JSON line


@dataclass(frozen=True)
class Part:
    """A part as the verifier expects it: where it is in its checkpoint, its digest,
    how many rows it holds and the sort key of its last one."""

    number: int
    digest: bytes
    rows: int
    last: list[Any]


@dataclass(frozen=True)
class Good:
    """The last checkpoint found equal to the replay, and its listed parts by stream
    (`rows:rm_orders`, `lines:orders`)."""

    sequence: int
    streams: dict[str, list[Part]]


@dataclass(frozen=True)
class Expected:
    digests: list[bytes]  # every part's `part_digest`, in order
    good: Good  # what the next checkpoint grows from, if this one is found equal


class RowsMoved(Exception):
    """The rows do not add up: a listed row moved or was deleted since `good`."""


#: Why a checkpoint cannot grow from `good`: then it is made from every row.
CANNOT_GROW = (CorruptCheckpoint, RowsMoved)


# A kept part as `save` takes it (shared by digest), or None (digests only).
Stored = Callable[[Part], Shared | None]


def expected(source: Engine, scratch: Engine, encode: Encode, sequence: int,
             good: Good | None) -> Expected:  # fmt: skip
    """The parts of a checkpoint at `sequence` of the scratch database's state, grown
    from `good` (None: from nothing, every row encoded). Grown from nothing, too,
    when the rows do not add up (a listed row moved or was deleted), or when `good`
    was stored again meanwhile."""
    with scratch.connect() as connection:
        if good is not None:
            try:
                return _digests(_grow(source, connection, encode, sequence, good, _unread))
            except CANNOT_GROW:
                pass
        return _digests(_grow(source, connection, encode, sequence, None, _unread))


class Grown:
    """The parts `capture` makes of the scratch database's state, the same bytes, grown
    from `good` (a checkpoint this process made of the same replay): a kept part is
    shared with it by digest (`Shared`), neither read, decoded nor compressed again.
    Once every part is read, `good` is what the next checkpoint grows from. Reading
    raises one of CANNOT_GROW where `expected` would grow from nothing."""

    def __init__(self, source: Engine, scratch: Engine, encode: Encode, sequence: int,
                 good: Good | None, slots: Slots | None = None) -> None:  # fmt: skip
        self.source, self.scratch, self.encode = source, scratch, encode
        self.sequence, self.previous, self.slots = sequence, good, slots
        self.good: Good | None = None

    def __iter__(self) -> Iterator[PartToSave]:
        with self.scratch.connect() as connection:
            grow = _grow(
                self.source, connection, self.encode, self.sequence, self.previous, _shared,
                self.slots,
            )  # fmt: skip
            while True:
                try:
                    _, data = next(grow)
                except StopIteration as done:
                    self.good = done.value
                    return
                assert data is not None  # every part's bytes are asked for
                yield data


def _digests(grow: Generator[tuple[bytes, PartToSave | None], None, Good]) -> Expected:
    digests: list[bytes] = []
    while True:
        try:
            digest, _ = next(grow)
        except StopIteration as done:
            return Expected(digests, done.value)
        digests.append(digest)


def _unread(_part: Part) -> None:
    return None


def _shared(part: Part) -> Shared:
    return Shared(part.digest)


def _grow(source: Engine, connection: Connection, encode: Encode, sequence: int,
          good: Good | None, stored: Stored, slots: Slots | None = None,
          ) -> Generator[tuple[bytes, PartToSave | None], None, Good]:  # fmt: skip
    """Each part's digest and bytes (None for a kept part when `stored` gives none), in
    order; returns what the next checkpoint grows from. Raises RowsMoved when the rows
    counted differ from the replay's tables."""
    since = -1 if good is None else good.sequence
    count = 0
    streams: dict[str, list[Part]] = {}
    lines: list[tuple[str, Iterator[Item]]] = []
    for name, table in _state_tables(connection, slots).items():
        kind = name.removeprefix("rm_")
        order = order_by(name, table)
        if kind not in LISTED:
            result = connection.exec_driver_sql(f"SELECT * FROM {table.name} {order}")
            columns = list(result.keys())
            while rows := result.fetchmany(PART_ROWS):
                made = rows_part(name, columns, [list(r) for r in rows])
                count += 1
                yield part_digest(made), made
            continue
        result = connection.exec_driver_sql(
            f"SELECT * FROM {table.name} WHERE as_of > ? {order}", (since,)
        )
        columns = list(result.keys())
        at = [columns.index(column) for column in (*LISTED[kind], "id")]
        stream = f"rows:{name}"
        parts: list[Part] = []
        for part, data in _stream(
            _previous(good, stream),
            (([row[i] for i in at], list(row)) for row in result),
            partial(_loaded_rows, source, good, at),
            partial(_rows_made, name, columns),
            count + 1,
            stored,
        ):
            parts.append(part)
            count += 1
            yield part.digest, data
        if good is not None:
            total = connection.exec_driver_sql(f"SELECT count(*) FROM {table.name}").scalar()
            if sum(part.rows for part in parts) != total:
                raise RowsMoved(name)
        streams[stream] = parts
        lines.append((kind, _lines_changed(connection, table, kind, encode, since)))
    manifest: dict[str, list[int]] = {}
    for kind, changed in lines:
        stream = f"lines:{kind}"
        first = count + 1
        parts = []
        for part, data in _stream(
            _previous(good, stream),
            changed,
            partial(_loaded_lines, source, good),
            partial(_lines_made, kind),
            first,
            stored,
        ):
            parts.append(part)
            count += 1
            yield part.digest, data
        streams[stream] = parts
        manifest[kind] = [first, count]
    made = manifest_part(manifest)
    yield part_digest(made), made
    return Good(sequence, streams)


def _previous(good: Good | None, stream: str) -> list[Part]:
    return [] if good is None else good.streams.get(stream, [])


def _lines_changed(connection: Connection, table: Any, kind: str, encode: Encode,
                   since: int) -> Iterator[Item]:  # fmt: skip
    for keys, bodies in _encoded(connection, table, kind, encode, since):
        yield from zip(keys, bodies, strict=True)


def _stream(previous: list[Part], changed: Iterator[Item], load: Callable[[Part], list[Item]],
            make: Callable[[list[Item]], bytes], first: int,
            stored: Stored) -> Iterator[tuple[Part, PartToSave | None]]:  # fmt: skip
    """One stream's parts and their bytes: `previous` with the `changed` items (in
    order) in their places, cut into parts of PART_ROWS, numbered from `first`. A part
    that no changed item falls in, and that starts where a part must start, is kept
    as it is (its bytes as `stored` gives them). Holds one part, and the changed items
    in one previous part's range, at a time."""
    made = 0
    buffer: list[Item] = []

    def cut(items: list[Item]) -> tuple[Part, bytes]:
        nonlocal made
        data = make(items)
        made += 1
        return Part(first + made - 1, part_digest(data), len(items), items[-1][0]), data

    pending = next(changed, None)
    for n, part in enumerate(previous):
        mine = []
        while pending is not None and pending[0] <= part.last:
            mine.append(pending)
            pending = next(changed, None)
        at_end = n == len(previous) - 1 and pending is None
        if not mine and not buffer and (part.rows == PART_ROWS or at_end):
            made += 1
            yield Part(first + made - 1, part.digest, part.rows, part.last), stored(part)
            continue
        buffer += _replaced(load(part), mine)
        while len(buffer) >= PART_ROWS:
            yield cut(buffer[:PART_ROWS])
            buffer = buffer[PART_ROWS:]
    while pending is not None:
        buffer += [pending, *islice(changed, PART_ROWS - 1)]
        pending = next(changed, None)
        while len(buffer) >= PART_ROWS:
            yield cut(buffer[:PART_ROWS])
            buffer = buffer[PART_ROWS:]
    if buffer:
        yield cut(buffer)


def _replaced(items: list[Item], changed: list[Item]) -> list[Item]:
    """`items` with the `changed` ones (by id, the key's last value) put in their place."""
    ids = {key[-1] for key, _ in changed}
    kept = [item for item in items if item[0][-1] not in ids]
    return list(heapq.merge(kept, changed, key=lambda item: item[0]))


def _stored(source: Engine, good: Good | None, part: Part) -> bytes:
    """A part of the good checkpoint as stored (checked against its digest, in case
    it was altered since)."""
    assert good is not None  # a Part comes from a good checkpoint
    data = blob(source, part.digest)
    if part_digest(data) != part.digest:
        raise CorruptCheckpoint(f"checkpoint {good.sequence} changed while it was read")
    return data


def _load(source: Engine, good: Good | None, part: Part) -> Any:
    """A part of the good checkpoint, decoded."""
    text = zlib.decompress(_stored(source, good, part))
    if text.startswith(b'{"lines"'):
        head, _, body = text.partition(b"\n")
        return {"keys": orjson.loads(head)["keys"], "lines": body.split(b"\n")}
    return orjson.loads(text)


def _loaded_rows(source: Engine, good: Good | None, at: list[int], part: Part) -> list[Item]:
    return [([row[i] for i in at], row) for row in _load(source, good, part)["rows"]]


def _rows_made(name: str, columns: list[str], items: list[Item]) -> bytes:
    return rows_part(name, columns, [row for _, row in items])


def _lines_made(kind: str, items: list[Item]) -> bytes:
    return lines_part(kind, [key for key, _ in items], [body for _, body in items])


def _loaded_lines(source: Engine, good: Good | None, part: Part) -> list[Item]:
    loaded = _load(source, good, part)
    return list(zip(loaded["keys"], loaded["lines"], strict=True))
