"""An attacker with write access to the database: changes to stored events and to
the transparency log made past their append-only triggers, for the audit tests."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from uuid import uuid4

from sqlalchemy import Connection, text

from infrastructure.database import DatabaseUrl, make_engine
from infrastructure.eventstore import events_table
from infrastructure.settings import load_settings
from infrastructure.transparency.appender import TreeAppender
from infrastructure.transparency.tables import TABLES
from interfaces.composition import build_system

FAR = 1_000_000


@contextmanager
def unguarded(url: str) -> Iterator[tuple[Connection, str, str]]:
    """A transaction with the events' and the tree's triggers off:
    (connection, events table, its sequence column). SQLite's triggers are dropped
    (the next start of the app re-creates the events' ones)."""
    database = DatabaseUrl(url)
    table = events_table(database)
    engine = make_engine(database)
    try:
        with engine.begin() as connection:
            if database.is_sqlite:
                for name in (f"{table}_no_update", f"{table}_no_delete"):
                    connection.execute(text(f"DROP TRIGGER IF EXISTS {name}"))
                for tree_table in TABLES:
                    for action in ("update", "delete"):
                        connection.execute(text(f"DROP TRIGGER IF EXISTS {tree_table}_no_{action}"))
                key = "rowid"
            else:
                for name in (table, *TABLES):
                    connection.execute(text(f"ALTER TABLE {name} DISABLE TRIGGER ALL"))
                key = "notification_id"
            yield connection, table, key
            if not database.is_sqlite:
                for name in (table, *TABLES):
                    connection.execute(text(f"ALTER TABLE {name} ENABLE TRIGGER ALL"))
    finally:
        engine.dispose()


def alter(url: str, sequence: int, old: bytes, new: bytes) -> None:
    """Rewrite part of one stored event's state bytes."""
    with unguarded(url) as (connection, table, key):
        state = connection.execute(
            text(f"SELECT state FROM {table} WHERE {key} = :n"), {"n": sequence}
        ).scalar_one()
        assert old in bytes(state)
        connection.execute(
            text(f"UPDATE {table} SET state = :s WHERE {key} = :n"),
            {"s": bytes(state).replace(old, new), "n": sequence},
        )


def delete(url: str, *sequences: int) -> None:
    with unguarded(url) as (connection, table, key):
        for sequence in sequences:
            connection.execute(text(f"DELETE FROM {table} WHERE {key} = :n"), {"n": sequence})


def reorder(url: str, first: int, second: int) -> None:
    """Swap two events' places in the log (each keeps its content)."""
    with unguarded(url) as (connection, table, key):
        connection.execute(text(f"UPDATE {table} SET {key} = :far WHERE {key} = :a"),
                           {"far": FAR, "a": first})  # fmt: skip
        connection.execute(text(f"UPDATE {table} SET {key} = :a WHERE {key} = :b"),
                           {"a": first, "b": second})  # fmt: skip
        connection.execute(text(f"UPDATE {table} SET {key} = :b WHERE {key} = :far"),
                           {"far": FAR, "b": second})  # fmt: skip


def insert(url: str, at: int) -> None:
    """A forged event slipped into history at `at`: the later ones move up one."""
    with unguarded(url) as (connection, table, key):
        connection.execute(text(f"UPDATE {table} SET {key} = {key} + {FAR} WHERE {key} >= :n"),
                           {"n": at})  # fmt: skip
        connection.execute(text(f"UPDATE {table} SET {key} = {key} - {FAR - 1} "
                                f"WHERE {key} >= {FAR}"))  # fmt: skip
        connection.execute(
            text(
                f"INSERT INTO {table} ({key}, originator_id, originator_version, topic, state) "
                "VALUES (:n, :id, 1, 'forged:Event', :state)"
            ),
            {"n": at, "id": uuid4().hex if table == "stored_events" else uuid4(), "state": b"{}"},
        )


def rewrite_tree(url: str) -> None:
    """Recompute the whole tree (leaves, nodes, unsigned heads) over the log as it now
    is: the attacker covering their tracks."""
    with unguarded(url) as (connection, _table, _key):
        for tree_table in ("tl_heads", "tl_nodes", "tl_leaves"):
            connection.execute(text(f"DELETE FROM {tree_table}"))
    system = build_system(load_settings(database_url=url), check=False)
    try:
        appender = TreeAppender(system.engine, system.app.recorder, system.url)
        appender.catch_up()
        appender.write_head()
    finally:
        system.close()
