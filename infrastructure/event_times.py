"""Event timestamps read from the stored events, without decoding the events.

`replay --until-time` looks for the last event at or before a time, reading the
log backwards over up to a checkpoint's range of events. Decoding each of them
to read one field was most of the cost of finding the sequence (56 k events,
about a second, at 1 M events). A stored state is the transcoder's JSON, whose
`timestamp` is `{"_type_": "datetime_iso", "_data_": ISO 8601}`: the database
reads the string and Python parses it the way the transcoder does
(`datetime.fromisoformat`). No upcaster changes a timestamp. A checkpoint's time
range (`time_range`) is read the same way.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from eventsourcing.persistence import Mapper
from sqlalchemy import Engine, text

# Per engine: the stored timestamp's ISO 8601 string, and the range of sequences.
_STAMP = {
    "sqlite": "json_extract(CAST(state AS TEXT), '$.timestamp._data_')",
    "postgresql": "convert_from(state, 'UTF8')::jsonb -> 'timestamp' ->> '_data_'",
}
_RANGE = {
    "sqlite": "FROM stored_events WHERE rowid > :after AND rowid <= :upto",
    "postgresql": "FROM tradestate_events "
    "WHERE notification_id > :after AND notification_id <= :upto",
}
_SEQUENCE = {"sqlite": "rowid", "postgresql": "notification_id"}


def stored_as_json(mapper: Mapper[Any]) -> bool:
    """Whether the stored states are the transcoder's JSON as it is (neither
    compressed nor encrypted), so the database can read their timestamps."""
    return mapper.compressor is None and mapper.cipher is None


def stored_times(source: Engine, after: int, upto: int) -> list[tuple[int, datetime]] | None:
    """The sequence and timestamp of each event with after < sequence <= upto, in
    order; None if one has no timestamp where the transcoder writes it."""
    engine = source.dialect.name
    sequence = _SEQUENCE[engine]
    query = f"SELECT {sequence}, {_STAMP[engine]} {_RANGE[engine]} ORDER BY {sequence}"
    with source.connect() as connection:
        rows = connection.execute(text(query), {"after": after, "upto": upto}).all()
    if any(stamp is None for _, stamp in rows):
        return None
    return [(sequence, datetime.fromisoformat(stamp)) for sequence, stamp in rows]


def time_range(source: Engine, after: int, upto: int) -> tuple[datetime, datetime]:
    """The earliest and latest event timestamps with after < sequence <= upto."""
    engine = source.dialect.name
    stamp = _STAMP[engine] if engine == "sqlite" else f"({_STAMP[engine]})::timestamptz"
    query = f"SELECT MIN({stamp}), MAX({stamp}) {_RANGE[engine]}"
    with source.connect() as connection:
        low, high = connection.execute(text(query), {"after": after, "upto": upto}).one()
    if isinstance(low, str):
        low, high = datetime.fromisoformat(low), datetime.fromisoformat(high)
    return low, high
