"""The paper broker's book, persisted apart from the event store.

It stands for an external system, so it is not a read model and is not built
from events: its tables (`paper_*`) are created by their own MetaData in the
same database as the store (one URL serves SQLite and PostgreSQL alike, and
nothing else to back up), but alembic never sees them and a read-model rebuild
never touches them. A hand-made trade at the broker (`tradestate broker
set-position`) changes only this book, which is what reconciliation is for.

Writes are serialized: on SQLite every transaction starts with BEGIN IMMEDIATE
(so a read-modify-write never fails to upgrade its lock), on PostgreSQL the
cursor row is locked FOR UPDATE first.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

from sqlalchemy import (
    BigInteger,
    Column,
    Connection,
    Engine,
    MetaData,
    String,
    Table,
    delete,
    event,
    insert,
    select,
    update,
)

from application.engine.broker import BrokerFill, BrokerOrder
from application.ports import PositionKey
from domain.values import OrderType, Side
from infrastructure.database import DatabaseUrl, make_engine
from infrastructure.sqltypes import DecimalType, UtcDateTime, UuidType

CURSOR = "paper"

metadata = MetaData()

paper_cursor = Table(
    "paper_cursor",
    metadata,
    Column("name", String(32), primary_key=True),
    Column("position", BigInteger, nullable=False),
)
paper_positions = Table(
    "paper_positions",
    metadata,
    Column("account", String(32), primary_key=True),
    Column("instrument", String(32), primary_key=True),
    Column("quantity", DecimalType, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
)
paper_orders = Table(
    "paper_orders",
    metadata,
    Column("order_id", UuidType, primary_key=True),
    Column("client_order_id", String(64), nullable=False),
    Column("account", String(32), nullable=False),
    Column("instrument", String(32), nullable=False),
    Column("side", String(4), nullable=False),
    Column("order_type", String(6), nullable=False),
    Column("quantity", DecimalType, nullable=False),
    Column("limit_price", DecimalType, nullable=True),
    Column("placed_at_sequence", BigInteger, nullable=False),
)
paper_fills = Table(
    "paper_fills",
    metadata,
    Column("fill_id", String(64), primary_key=True),
    Column("order_id", UuidType, nullable=False),
    Column("account", String(32), nullable=False),
    Column("instrument", String(32), nullable=False),
    Column("side", String(4), nullable=False),
    Column("quantity", DecimalType, nullable=False),
    Column("price", DecimalType, nullable=False),
    Column("commission", DecimalType, nullable=False),
    Column("timestamp", UtcDateTime, nullable=False),
    Column("quote_sequence", BigInteger, nullable=False),
)


@dataclass(frozen=True)
class BookOrder:
    """An open order at the paper broker, with the log position it was placed at."""

    order: BrokerOrder
    placed_at_sequence: int


def open_book_engine(url: str) -> Engine:
    """An engine of the book's own, so its SQLite transaction mode touches nobody else."""
    engine = make_engine(DatabaseUrl(url))
    if engine.dialect.name == "sqlite":

        @event.listens_for(engine, "connect")
        def _manual_transactions(dbapi_connection: Any, _record: Any) -> None:
            dbapi_connection.isolation_level = None

        @event.listens_for(engine, "begin")
        def _begin_immediate(connection: Connection) -> None:
            connection.exec_driver_sql("BEGIN IMMEDIATE")

    return engine


class PaperBook:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        metadata.create_all(engine)
        with engine.begin() as connection:
            found = connection.execute(
                select(paper_cursor.c.name).where(paper_cursor.c.name == CURSOR)
            ).first()
            if found is None:
                connection.execute(insert(paper_cursor).values(name=CURSOR, position=0))

    @classmethod
    def at(cls, url: str) -> PaperBook:
        return cls(open_book_engine(url))

    def close(self) -> None:
        self.engine.dispose()

    @contextmanager
    def transaction(self) -> Iterator[Connection]:
        with self.engine.begin() as connection:
            connection.execute(
                select(paper_cursor.c.position)
                .where(paper_cursor.c.name == CURSOR)
                .with_for_update()
            )
            yield connection

    def cursor(self) -> int:
        with self.engine.connect() as connection:
            found = connection.execute(
                select(paper_cursor.c.position).where(paper_cursor.c.name == CURSOR)
            ).scalar_one_or_none()
        return found or 0

    @staticmethod
    def set_cursor(connection: Connection, position: int) -> None:
        connection.execute(
            update(paper_cursor).where(paper_cursor.c.name == CURSOR).values(position=position)
        )

    def positions(self) -> dict[PositionKey, Decimal]:
        with self.engine.connect() as connection:
            rows = connection.execute(select(paper_positions)).all()
        return {(r.account, r.instrument): r.quantity for r in rows if r.quantity != 0}

    def open_orders(self) -> list[BookOrder]:
        with self.engine.connect() as connection:
            rows = connection.execute(
                select(paper_orders).order_by(paper_orders.c.placed_at_sequence)
            ).all()
        return [
            BookOrder(
                BrokerOrder(
                    order_id=r.order_id,
                    client_order_id=r.client_order_id,
                    account=r.account,
                    instrument=r.instrument,
                    side=Side(r.side),
                    order_type=OrderType(r.order_type),
                    quantity=r.quantity,
                    limit_price=r.limit_price,
                ),
                r.placed_at_sequence,
            )
            for r in rows
        ]

    def fills(self, limit: int = 20) -> list[dict[str, Any]]:
        with self.engine.connect() as connection:
            rows = connection.execute(
                select(paper_fills).order_by(paper_fills.c.quote_sequence.desc()).limit(limit)
            ).all()
        return [dict(r._mapping) for r in rows]

    @staticmethod
    def add_order(connection: Connection, entry: BookOrder) -> None:
        order = entry.order
        exists = connection.execute(
            select(paper_orders.c.order_id).where(paper_orders.c.order_id == order.order_id)
        ).first()
        if exists is None:
            connection.execute(
                insert(paper_orders).values(
                    order_id=order.order_id,
                    client_order_id=order.client_order_id,
                    account=order.account,
                    instrument=order.instrument,
                    side=order.side.value,
                    order_type=order.order_type.value,
                    quantity=order.quantity,
                    limit_price=order.limit_price,
                    placed_at_sequence=entry.placed_at_sequence,
                )
            )

    @staticmethod
    def remove_order(connection: Connection, order_id: UUID) -> None:
        connection.execute(delete(paper_orders).where(paper_orders.c.order_id == order_id))

    @staticmethod
    def resize_order(connection: Connection, order_id: UUID, remaining: Decimal) -> None:
        connection.execute(
            update(paper_orders)
            .where(paper_orders.c.order_id == order_id)
            .values(quantity=remaining)
        )

    @classmethod
    def record_fill(cls, connection: Connection, fill: BrokerFill, quote_sequence: int) -> None:
        cls.remove_order(connection, fill.order_id)
        connection.execute(
            insert(paper_fills).values(
                fill_id=fill.fill_id,
                order_id=fill.order_id,
                account=fill.account,
                instrument=fill.instrument,
                side=fill.side.value,
                quantity=fill.quantity,
                price=fill.price,
                commission=fill.commission,
                timestamp=fill.timestamp,
                quote_sequence=quote_sequence,
            )
        )
        cls.move_position(
            connection, fill.account, fill.instrument, fill.signed_quantity, fill.timestamp
        )

    @staticmethod
    def move_position(
        connection: Connection, account: str, instrument: str, delta: Decimal, when: datetime
    ) -> Decimal:
        key = (paper_positions.c.account == account) & (paper_positions.c.instrument == instrument)
        current = connection.execute(
            select(paper_positions.c.quantity).where(key)
        ).scalar_one_or_none()
        quantity = (current or Decimal(0)) + delta
        if current is None:
            connection.execute(
                insert(paper_positions).values(
                    account=account, instrument=instrument, quantity=quantity, updated_at=when
                )
            )
        else:
            connection.execute(
                update(paper_positions).where(key).values(quantity=quantity, updated_at=when)
            )
        return quantity

    def set_position(
        self, account: str, instrument: str, quantity: Decimal, when: datetime
    ) -> Decimal:
        """A trade done by hand at the broker: the book's quantity becomes `quantity`.
        Returns the quantity it had before."""
        with self.transaction() as connection:
            before = connection.execute(
                select(paper_positions.c.quantity).where(
                    (paper_positions.c.account == account)
                    & (paper_positions.c.instrument == instrument)
                )
            ).scalar_one_or_none() or Decimal(0)
            self.move_position(connection, account, instrument, quantity - before, when)
        return before
