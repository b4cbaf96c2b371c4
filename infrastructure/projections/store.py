"""SqlRowStore: a projection's rows for one batch, written in one transaction.

Rows touched by a batch are kept in memory and upserted once at flush, so a
position changed by a thousand fills in a rebuild batch is written once.
"""

from __future__ import annotations

from collections.abc import Hashable
from typing import Any

from sqlalchemy import Connection, Table, select
from sqlalchemy.dialects import postgresql, sqlite

from infrastructure.readmodels.tables import ProjectionTables

Row = dict[str, Any]


class SqlRowStore:
    def __init__(self, connection: Connection, tables: ProjectionTables, names: tuple[str, ...]):
        self.connection = connection
        self.tables: dict[str, Table] = {name: getattr(tables, name) for name in names}
        self.pending: dict[tuple[str, Hashable], Row] = {}
        self._insert = (
            postgresql.insert if connection.dialect.name == "postgresql" else sqlite.insert
        )

    def _key_columns(self, table: Table) -> list[Any]:
        return list(table.primary_key.columns)

    def get(self, table: str, key: Hashable) -> Row | None:
        found = self.pending.get((table, key))
        if found is not None:
            return found
        t = self.tables[table]
        columns = self._key_columns(t)
        values = key if isinstance(key, tuple) else (key,)
        statement = select(t).where(*(c == v for c, v in zip(columns, values, strict=True)))
        row = self.connection.execute(statement).first()
        return None if row is None else dict(row._mapping)

    def put(self, table: str, key: Hashable, row: Row) -> None:
        self.pending[(table, key)] = row

    def last(self, table: str) -> Row | None:
        t = self.tables[table]
        column = self._key_columns(t)[0]
        stored = self.connection.execute(select(t).order_by(column.desc()).limit(1)).first()
        candidates = [r for (name, _), r in self.pending.items() if name == table]
        if stored is not None:
            candidates.append(dict(stored._mapping))
        return max(candidates, key=lambda r: r[column.name], default=None)

    def flush(self) -> list[tuple[str, Row]]:
        """Upsert every pending row; returns (table, row) in first-touch order."""
        by_table: dict[str, list[Row]] = {}
        for (table, _key), row in self.pending.items():
            by_table.setdefault(table, []).append(row)
        for table, rows in by_table.items():
            self._upsert(self.tables[table], rows)
        written = [(table, row) for (table, _), row in self.pending.items()]
        self.pending = {}
        return written

    def _upsert(self, table: Table, rows: list[Row]) -> None:
        keys = [c.name for c in self._key_columns(table)]
        columns = [c.name for c in table.columns]
        statement = self._insert(table)
        updates = {name: statement.excluded[name] for name in columns if name not in keys}
        statement = (
            statement.on_conflict_do_update(index_elements=keys, set_=updates)
            if updates
            else statement.on_conflict_do_nothing(index_elements=keys)
        )
        self.connection.execute(statement, [{c: row.get(c) for c in columns} for row in rows])
