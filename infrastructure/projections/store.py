"""SqlRowStore: a projection's rows for one batch, written in one transaction.

Rows touched by a batch are kept in memory and upserted once at flush, so a
position changed by a thousand fills in a rebuild batch is written once. A
RowCache carries a runner's committed rows to its next batch (bounded), and
deferred rows (quotes) are only built if still the latest at flush. Memory is
bounded by the batch and the cache, never by the log.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Hashable, Sequence
from operator import itemgetter
from typing import Any

from sqlalchemy import Connection, Dialect, Table, select

from infrastructure.database import conflict_insert
from infrastructure.readmodels.tables import ProjectionTables
from infrastructure.sqltypes import column_converter

Row = dict[str, Any]
Key = tuple[str, Hashable]  # (table, primary key)


class RowFailed(Exception):
    """Building a deferred row failed at flush; `index` is the event that put it."""

    def __init__(self, index: int, cause: BaseException) -> None:
        super().__init__(str(cause))
        self.index = index
        self.cause = cause


class _Deferred(tuple[Callable[..., Row], tuple[Any, ...], int]):
    """A row to build at flush: (build, its arguments, the index of the event that put it)."""

    __slots__ = ()


class _Upsert:
    """One table's INSERT .. ON CONFLICT DO UPDATE, compiled once per dialect, with its
    columns' converters (the column types' own bind conversions, a column at a time)
    in parameter order.

    Executed on the driver (`exec_driver_sql`): per-row statement processing in
    SQLAlchemy cost as much as the database's own work in a rebuild."""

    def __init__(self, table: Table, dialect: Dialect) -> None:
        compiled = upsert_statement(table, dialect.name).compile(dialect=dialect)
        column_of = {name: bind.key for bind, name in compiled.bind_names.items()}
        self.names = list(compiled.positiontup if compiled.positional else column_of)
        self.columns = [column_of[name] for name in self.names]
        self.sql = str(compiled)
        self.positional = compiled.positional
        self.converters = [
            (index, convert)
            for index, column in enumerate(self.columns)
            if (convert := column_converter(table.c[column].type, dialect))
        ]
        self._values = itemgetter(*self.columns)

    def parameters(self, rows: list[Row]) -> list[Any]:
        try:
            values: list[tuple[Any, ...]] = list(map(self._values, rows))
        except KeyError:  # a row without some column: NULL there
            values = [tuple([row.get(column) for column in self.columns]) for row in rows]
        if self.converters:
            columns: list[Sequence[Any]] = list(zip(*values, strict=True))
            for index, convert in self.converters:
                columns[index] = convert(columns[index])
            values = list(zip(*columns, strict=True))
        if self.positional:
            return values
        return [dict(zip(self.names, row_values, strict=True)) for row_values in values]


def upsert_statement(table: Table, dialect: str) -> Any:
    """INSERT .. ON CONFLICT DO UPDATE of every non-key column."""
    keys = [c.name for c in table.primary_key.columns]
    statement = conflict_insert(dialect)(table)
    updates = {c.name: statement.excluded[c.name] for c in table.columns if c.name not in keys}
    if not updates:
        return statement.on_conflict_do_nothing(index_elements=keys)
    return statement.on_conflict_do_update(index_elements=keys, set_=updates)


_COMPILED: dict[tuple[Table, str, str], _Upsert] = {}


def _upsert_for(table: Table, dialect: Dialect) -> _Upsert:
    key = (table, dialect.name, dialect.driver)
    found = _COMPILED.get(key)
    if found is None:
        found = _COMPILED[key] = _Upsert(table, dialect)
    return found


class RowCache:
    """Committed rows of one runner's slot, kept across its batches so that a row
    changed in every batch is not read back each time; at most `size` rows,
    least recently written first out, and only of tables the projection reads.

    Valid while the runner is the slot's only writer: `valid_at` is the slot and
    tracking position the rows are as of; the runner clears the cache when its
    batch starts anywhere else (another runner moved on, a swap, a rollback)."""

    def __init__(self, size: int = 10_000) -> None:
        self.size = size
        self.rows: OrderedDict[Key, Row] = OrderedDict()
        self.read_tables: set[str] = set()
        self.valid_at: tuple[str, int] | None = None

    def clear(self) -> None:
        self.rows.clear()
        self.valid_at = None

    def remember(self, key: Key, row: Row) -> None:
        rows = self.rows
        rows[key] = row
        rows.move_to_end(key)
        if len(rows) > self.size:
            rows.popitem(last=False)

    def committed(self, written: list[tuple[Key, Row]], at: tuple[str, int]) -> None:
        for key, row in written:
            if key[0] in self.read_tables:
                self.remember(key, row)
        self.valid_at = at


class SqlRowStore:
    def __init__(
        self,
        connection: Connection,
        tables: ProjectionTables,
        names: tuple[str, ...],
        cache: RowCache | None = None,
    ):
        self.connection = connection
        self.tables: dict[str, Table] = {name: getattr(tables, name) for name in names}
        self.pending: dict[Key, Row | _Deferred] = {}
        self.owned: set[Key] = set()  # pending rows the batch may change in place
        self.cache = cache or RowCache(0)
        self.index = 0  # the event being applied (set by the runner), for deferred rows

    def get(self, table: str, key: Hashable) -> Row | None:
        found = self.pending.get((table, key))
        if found is not None:
            return self._built(table, key, found)
        cache = self.cache
        cache.read_tables.add(table)
        cached = cache.rows.get((table, key))
        if cached is not None:
            return cached
        t = self.tables[table]
        columns = list(t.primary_key.columns)
        values = key if isinstance(key, tuple) else (key,)
        statement = select(t).where(*(c == v for c, v in zip(columns, values, strict=True)))
        row = self.connection.execute(statement).first()
        if row is None:
            return None
        stored = dict(row._mapping)
        if cache.size:
            cache.remember((table, key), stored)
        return stored

    def get_for_update(self, table: str, key: Hashable) -> Row | None:
        """A row the batch owns: copied once per batch, not once per event (a row read
        from the cache or the database is a committed row, held by the cache and by
        the listeners it went to)."""
        pending_key = (table, key)
        if pending_key in self.owned:
            return self.pending[pending_key]  # type: ignore[return-value]
        found = self.get(table, key)
        if found is None:
            return None
        row = self.pending[pending_key] = dict(found)
        self.owned.add(pending_key)
        return row

    def put(self, table: str, key: Hashable, row: Row) -> None:
        pending_key = (table, key)
        self.pending[pending_key] = row
        self.owned.add(pending_key)

    def put_deferred(
        self, table: str, key: Hashable, build: Callable[..., Row], *args: Any
    ) -> None:
        pending_key = (table, key)
        self.pending[pending_key] = _Deferred((build, args, self.index))
        self.owned.discard(pending_key)

    def _built(self, table: str, key: Hashable, found: Row | _Deferred) -> Row:
        if isinstance(found, _Deferred):
            build, args, index = found
            try:
                found = build(*args)
            except Exception as error:
                raise RowFailed(index, error) from error
            self.pending[(table, key)] = found
        return found

    def flush(self) -> list[tuple[Key, Row]]:
        """Upsert every pending row; returns ((table, key), row) in first-touch order.

        Deferred rows that cannot be built raise RowFailed naming the earliest event."""
        written: list[tuple[Key, Row]] = []
        by_table: dict[str, list[Row]] = {name: [] for name in self.tables}
        failed: RowFailed | None = None
        for key, row in self.pending.items():
            table = key[0]
            if isinstance(row, _Deferred):
                build, args, index = row
                try:
                    row = build(*args)
                except Exception as error:
                    if failed is None or index < failed.index:
                        failed = RowFailed(index, error)
                    continue
            by_table[table].append(row)
            written.append((key, row))
        if failed is not None:
            raise failed
        for table, rows in by_table.items():
            if rows:
                self.upsert(self.tables[table], rows)
        self.pending = {}
        self.owned = set()
        return written

    def upsert(self, table: Table, rows: list[Row]) -> None:
        """Insert or update `rows` of `table` now, in the store's transaction."""
        upsert = _upsert_for(table, self.connection.dialect)
        self.connection.exec_driver_sql(upsert.sql, upsert.parameters(rows))
