"""Skimming checkpoint parts (infrastructure/checkpoints.py): what time travel needs
from them, found without decoding the rest.

Time travel near the head keeps a few thousand of a checkpoint's rows and streams
most of its lines unchanged. Decoding every row to keep those few, and every sort
key to see that a part is unchanged, was most of its restore and a third of its
output at 1 M events.

Both skims rest on the JSON orjson writes for a part: no whitespace, rows and keys
of scalars, and strings in which every quote is escaped (`\\"`). So outside a
string `]` only closes a row or a key, and an unescaped `"` next to `],[` is a
string's edge, never inside one.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import orjson

_ID = 32  # characters in a raw id (a UUID's hex)
_NEXT_ROW = b'],["'  # between two rows whose first value is a string
_KEYS = b'"keys":[['
_NEXT_KEY = b'"],['  # between two keys, the first ending with its id
_ESCAPED_NEXT_KEY = b'\\"],['  # what `"],[` would be inside a string


def touched_rows(rows: bytes, columns: list[str], only: frozenset[bytes]) -> list[list[Any]]:
    """The rows (a JSON array of rows) whose raw id is in `only`, decoding only those.

    When every row starts with its id, `],["` appears only between two rows: cut
    there, each piece starts with its row's id."""
    if columns[:1] != ["id"] or not rows.startswith(b'[["'):
        at = columns.index("id")
        return [row for row in orjson.loads(rows) if str(row[at]).encode() in only]
    pieces = rows[3:-2].split(_NEXT_ROW)  # without the array's `[["` and `]]`
    kept = [piece for piece in pieces if piece[:_ID] in only and piece[_ID : _ID + 1] == b'"']
    return orjson.loads(b'[["' + b'],["'.join(kept) + b"]]") if kept else []


class LinesKeys:
    """A lines part's sort keys (`{"lines": kind, "keys": [[..., raw id], ...]}`),
    decoded whole only when iterated; their ids and the last key are read without,
    when the part's `rows` lines have as many keys.

    Every key ends with its id (a string), so `"],[` is the end of one key and the
    start of the next, unless a string holds it (then escaped: `\\"],[`, and the
    keys are decoded whole)."""

    def __init__(self, head: bytes, rows: int) -> None:
        self.head = head
        self._decoded: list[list[Any]] | None = None
        pieces = _key_pieces(head)
        self._pieces = pieces if pieces is not None and len(pieces) == rows else None

    def __len__(self) -> int:
        return len(self._pieces) if self._pieces is not None else len(self.decoded())

    def __iter__(self) -> Iterator[list[Any]]:
        return iter(self.decoded())

    def decoded(self) -> list[list[Any]]:
        if self._decoded is None:
            self._decoded = orjson.loads(self.head)["keys"]
        return self._decoded

    def ids(self) -> list[bytes]:
        """Each key's raw id (its last value), encoded."""
        if self._pieces is None:
            return [str(key[-1]).encode() for key in self.decoded()]
        return [piece.rpartition(b'"')[2] for piece in self._pieces]

    def last(self) -> list[Any]:
        if self._pieces is None:
            return self.decoded()[-1]
        return orjson.loads(b"[" + self._pieces[-1] + b'"]')


def _key_pieces(head: bytes) -> list[bytes] | None:
    """The keys' text cut between keys, each without its brackets and its id's closing
    quote; None when there are none or a string holds `"],[`."""
    start = head.find(_KEYS)
    if start < 0 or not head.endswith(b'"]]}') or _ESCAPED_NEXT_KEY in head:
        return None
    return head[start + len(_KEYS) : -4].split(_NEXT_KEY)
