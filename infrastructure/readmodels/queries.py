"""Reads of the read models (the active blue/green slot), for the API and the CLI:
the implementation of the application's read-model port (`application.read_models`).

Rows come back as dicts keyed by column name (snake_case); decimals are
Decimal, datetimes are aware, ids are UUID. Nothing here replays events.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any
from uuid import UUID

from sqlalchemy import Connection, Engine, Table, select, text, tuple_

from application.read_models import Changes, Mark, Row
from infrastructure.readmodels.account_queries import AccountReads
from infrastructure.readmodels.control import slots_table, tracking_name, tracking_table
from infrastructure.readmodels.tables import FOLLOWABLE, ProjectionTables, projection_tables

# The port's records, still imported from here by projections/watch.py.
__all__ = ["Changes", "Mark", "ReadModels", "Row"]


class ReadModels:
    """Queries over the projected read models (`application.read_models.ReadModelQueries`)."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.accounts = AccountReads(engine)
        self.followable = FOLLOWABLE

    def ping(self) -> None:
        with self.engine.connect() as connection:
            connection.execute(text("SELECT 1"))

    def tracked_at(self, projection: str) -> datetime | None:
        with self.engine.connect() as connection:
            slot = connection.execute(
                select(slots_table.c.active_slot).where(slots_table.c.name == projection)
            ).scalar_one_or_none()
            return connection.execute(
                select(tracking_table.c.updated_at).where(
                    tracking_table.c.name == tracking_name(projection, slot or "a")
                )
            ).scalar_one_or_none()

    def _tables(self, connection: Connection, projection: str) -> ProjectionTables:
        slot = connection.execute(
            select(slots_table.c.active_slot).where(slots_table.c.name == projection)
        ).scalar_one_or_none()
        return projection_tables(slot or "a")

    def _rows(self, projection: str, build: Any) -> list[Row]:
        with self.engine.connect() as connection:
            tables = self._tables(connection, projection)
            statement = build(tables)
            return [dict(row._mapping) for row in connection.execute(statement)]

    def _one(self, projection: str, build: Any) -> Row | None:
        rows = self._rows(projection, build)
        return rows[0] if rows else None

    def version(self, projections: Sequence[str]) -> tuple[Any, ...]:
        """Where the read models of `projections` stand: (name, active slot, generation,
        applied position) each. Rows and tracking commit together, so while this is
        unchanged, so are the rows of these projections."""
        tracked = slots_table.c.name + ":" + slots_table.c.active_slot
        statement = (
            select(
                slots_table.c.name,
                slots_table.c.active_slot,
                slots_table.c.generation,
                tracking_table.c.notification_id,
            )
            .select_from(slots_table.outerjoin(tracking_table, tracking_table.c.name == tracked))
            .where(slots_table.c.name.in_(list(projections)))
            .order_by(slots_table.c.name)
        )
        with self.engine.connect() as connection:
            return tuple(tuple(row) for row in connection.execute(statement))

    def changes(
        self,
        projection: str,
        table: str | Callable[[ProjectionTables], Table],
        since: Mark | None,
    ) -> Changes:
        """The rows of one table of `projection` (its name, or the table of a slot's
        tables) written after `since` (rows carry the sequence of the last event they
        reflect, and a projection commits its events in order, so one statement sees
        every row up to the highest `as_of` it returns); all of them when `since` is
        None or the active slot has changed since."""
        table_of = _named(table) if isinstance(table, str) else table
        with self.engine.connect() as connection:
            found = connection.execute(
                select(slots_table.c.active_slot, slots_table.c.generation).where(
                    slots_table.c.name == projection
                )
            ).one_or_none()
            slot, generation = found if found is not None else ("a", 0)
            read = table_of(projection_tables(slot))
            statement = select(read)
            complete = since is None or (since.slot, since.generation) != (slot, generation)
            if not complete:
                statement = statement.where(read.c.as_of > since.as_of)  # type: ignore[union-attr]
            rows = [dict(row._mapping) for row in connection.execute(statement)]
        low = 0 if complete or since is None else since.as_of
        high = max((row["as_of"] for row in rows), default=low)
        return Changes(rows, complete, Mark(slot, generation, high))

    def rows_after(
        self, projection: str, table: str, cursor: tuple[Any, ...], limit: int
    ) -> list[Row]:
        """Up to `limit` rows of one table of `projection` past `cursor`, in (`as_of`,
        primary key) order: `(after,)` to start, then `page_cursor` of the last row."""
        with self.engine.connect() as connection:
            found = getattr(self._tables(connection, projection), table)
            order = [found.c.as_of, *found.primary_key.columns]
            statement = select(found).order_by(*order).limit(limit)
            if len(cursor) == 1:
                statement = statement.where(found.c.as_of > cursor[0])
            else:
                statement = statement.where(tuple_(*order) > tuple_(*cursor))
            return [dict(row._mapping) for row in connection.execute(statement)]

    def page_cursor(self, table: str, row: Row) -> tuple[Any, ...]:
        """Where `rows_after` goes on after `row`."""
        found = getattr(projection_tables("a"), table)
        return (row["as_of"], *(row[column.name] for column in found.primary_key.columns))

    def positions(self, status: str | None = None, account: str | None = None) -> list[Row]:
        def build(t: ProjectionTables) -> Any:
            table = t.positions
            statement = select(table).order_by(table.c.account, table.c.instrument)
            return _filter(statement, table, status=status, account=account)

        return self._rows("positions", build)

    def position(self, account: str, instrument: str) -> Row | None:
        def build(t: ProjectionTables) -> Any:
            return _filter(select(t.positions), t.positions, account=account, instrument=instrument)

        return self._one("positions", build)

    def signals(
        self, status: str | None = None, instrument: str | None = None, limit: int = 100
    ) -> list[Row]:
        def build(t: ProjectionTables) -> Any:
            table = t.signals
            statement = select(table).order_by(table.c.created_at.desc()).limit(limit)
            return _filter(statement, table, status=status, instrument=instrument)

        return self._rows("signals", build)

    def signal(self, signal_id: UUID) -> Row | None:
        return self._one("signals", lambda t: select(t.signals).where(t.signals.c.id == signal_id))

    def orders(
        self, status: str | None = None, instrument: str | None = None, limit: int = 100
    ) -> list[Row]:
        def build(t: ProjectionTables) -> Any:
            table = t.orders
            statement = select(table).order_by(table.c.created_at.desc()).limit(limit)
            return _filter(statement, table, status=status, instrument=instrument)

        return self._rows("orders", build)

    def order(self, order_id: UUID) -> Row | None:
        return self._one("orders", lambda t: select(t.orders).where(t.orders.c.id == order_id))

    def trades(self, instrument: str | None = None, limit: int = 100) -> list[Row]:
        def build(t: ProjectionTables) -> Any:
            table = t.trades
            statement = select(table).order_by(table.c.sequence.desc()).limit(limit)
            return _filter(statement, table, instrument=instrument)

        return self._rows("trades", build)

    def monitors(self, status: str | None = None) -> list[Row]:
        def build(t: ProjectionTables) -> Any:
            table = t.monitors
            return _filter(select(table).order_by(table.c.created_at), table, status=status)

        return self._rows("monitors", build)

    def monitor(self, monitor_id: UUID) -> Row | None:
        return self._one(
            "monitors", lambda t: select(t.monitors).where(t.monitors.c.id == monitor_id)
        )

    def quotes(self, instruments: Sequence[str] | None = None) -> list[Row]:
        def build(t: ProjectionTables) -> Any:
            statement = select(t.quotes).order_by(t.quotes.c.instrument)
            if instruments:
                statement = statement.where(t.quotes.c.instrument.in_(list(instruments)))
            return statement

        return self._rows("quotes", build)

    def reconciliations(self, limit: int = 20) -> list[Row]:
        """Runs, newest first, each with a `mismatches` list."""
        return self._reconciliations(
            lambda t: (
                select(t.reconciliations)
                .order_by(t.reconciliations.c.started_at.desc())
                .limit(limit)
            )
        )

    def reconciliation(self, reconciliation_id: UUID) -> Row | None:
        found = self._reconciliations(
            lambda t: select(t.reconciliations).where(t.reconciliations.c.id == reconciliation_id)
        )
        return found[0] if found else None

    def _reconciliations(self, build: Any) -> list[Row]:
        with self.engine.connect() as connection:
            t = self._tables(connection, "reconciliations")
            runs = [dict(row._mapping) for row in connection.execute(build(t))]
            found: dict[UUID, list[Row]] = {run["id"]: [] for run in runs}
            if found:
                mismatches = t.mismatches
                for row in connection.execute(
                    select(mismatches)
                    .where(mismatches.c.reconciliation_id.in_(list(found)))
                    .order_by(mismatches.c.account, mismatches.c.instrument)
                ):
                    found[row.reconciliation_id].append(dict(row._mapping))
            for run in runs:
                run["mismatches"] = found[run["id"]]
            return runs


def _named(name: str) -> Callable[[ProjectionTables], Table]:
    return lambda tables: getattr(tables, name)


def _filter(statement: Any, table: Table, **criteria: object) -> Any:
    for column, value in criteria.items():
        if value is not None:
            statement = statement.where(table.c[column] == value)
    return statement
