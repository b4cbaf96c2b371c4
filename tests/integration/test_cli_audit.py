"""`tradestate audit verify` via the real script: a clean store passes; an event
altered by hand, or a read-model row, fails naming the first failing sequence."""

from __future__ import annotations

from sqlalchemy import text, update

from infrastructure.database import DatabaseUrl, make_engine
from infrastructure.eventstore import events_table
from infrastructure.readmodels.tables import projection_tables
from tests.integration.test_cli_replay import populated_store, tradestate


def alter_stored_event(url: str, sequence: int, old: bytes, new: bytes) -> None:
    """Rewrite one stored event's state bytes, past the append-only trigger."""
    database = DatabaseUrl(url)
    table = events_table(database)
    engine = make_engine(database)
    try:
        with engine.begin() as connection:
            if database.is_sqlite:
                connection.execute(text(f"DROP TRIGGER {table}_no_update"))
                key = "rowid"
            else:
                connection.execute(text(f"ALTER TABLE {table} DISABLE TRIGGER ALL"))
                key = "notification_id"
            state = connection.execute(
                text(f"SELECT state FROM {table} WHERE {key} = :n"), {"n": sequence}
            ).scalar_one()
            assert old in bytes(state)
            connection.execute(
                text(f"UPDATE {table} SET state = :s WHERE {key} = :n"),
                {"s": bytes(state).replace(old, new), "n": sequence},
            )
    finally:
        engine.dispose()


def test_a_clean_store_passes_every_check(database_url):
    store = populated_store(database_url)
    result = tradestate("audit", "verify", "--db", store.url)
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"[ok  ] hash chain: {store.head} hashes match" in result.stdout
    assert "[ok  ] decodability" in result.stdout and "[ok  ] read models" in result.stdout


def test_an_event_altered_by_hand_fails_naming_its_sequence(database_url):
    store = populated_store(database_url)
    altered = store.after_first_fill - 1  # the position's FillApplied of the first fill
    alter_stored_event(store.url, altered, b'"fill_id":"f1"', b'"fill_id":"fX"')
    result = tradestate("audit", "verify", "--db", store.url)
    assert result.returncode == 1, result.stdout + result.stderr
    assert f"[FAIL] hash chain: sequence {altered}: its stored event was altered" in result.stdout
    assert f"first failing sequence {altered}" in result.stderr


def test_an_undecodable_event_fails_decodability(database_url):
    store = populated_store(database_url)
    alter_stored_event(store.url, 1, b'"client_order_id"', b'"client_order_key"')
    result = tradestate("audit", "verify", "--db", store.url)
    assert result.returncode == 1
    assert "[FAIL] decodability: sequence 1 does not decode" in result.stdout
    assert "client_order_key" in result.stdout
    assert "first failing sequence 1" in result.stderr


def test_a_read_model_row_changed_by_hand_is_shown_as_a_diff(database_url):
    store = populated_store(database_url)
    engine = make_engine(DatabaseUrl(store.url))
    positions = projection_tables("a").positions
    try:
        with engine.begin() as connection:
            connection.execute(update(positions).values(quantity=3))
    finally:
        engine.dispose()
    result = tradestate("audit", "verify", "--db", store.url)
    assert result.returncode == 1
    assert "[ok  ] hash chain" in result.stdout
    assert "[FAIL] read models" in result.stdout
    assert f"positions {store.position_id}: quantity live=3 replay=10" in result.stdout
