"""The read-model schema: alembic builds exactly `metadata`, and values survive exactly."""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from uuid import uuid4

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Engine, insert, inspect, select
from sqlalchemy.exc import StatementError

from infrastructure.database import DatabaseUrl, make_engine
from infrastructure.migrate import VERSION_TABLE, current_revision, head_revision, upgrade
from infrastructure.readmodels import (
    PROJECTION_NAMES,
    metadata,
    projection_tables,
    slots_table,
)
from infrastructure.sqltypes import canonical_decimal_text

EXACT_DECIMALS = [
    Decimal("123456789012345678.123456789012345678"),
    Decimal("-123456789012345678.123456789012345678"),
    Decimal("999999999999999999.999999999999999999"),
    Decimal("1E-18"),
    Decimal("-1E-18"),
    Decimal("1E+17"),
    Decimal("0"),
    Decimal("101.25"),
    Decimal("1.50"),
]


@pytest.fixture
def migrated_url(database_url: str) -> str:
    upgrade(database_url)
    return database_url


@pytest.fixture
def engine(migrated_url: str) -> Iterator[Engine]:
    engine = make_engine(DatabaseUrl(migrated_url))
    yield engine
    engine.dispose()


def test_upgrade_creates_exactly_the_declared_schema(engine: Engine) -> None:
    with engine.connect() as connection:
        context = MigrationContext.configure(
            connection, opts={"version_table": VERSION_TABLE, "compare_type": True}
        )
        assert compare_metadata(context, metadata) == []


def test_upgrade_seeds_slot_a_for_every_projection(engine: Engine) -> None:
    with engine.connect() as connection:
        rows = connection.execute(select(slots_table)).all()
    assert sorted(rows) == sorted((name, "a", 0) for name in PROJECTION_NAMES)


def test_upgrade_twice_is_a_no_op(database_url: str) -> None:
    assert current_revision(database_url) is None
    upgrade(database_url)
    first = _schema_snapshot(database_url)
    upgrade(database_url)
    assert _schema_snapshot(database_url) == first
    assert current_revision(database_url) == head_revision() == "0001"


def _schema_snapshot(url: str) -> tuple[object, ...]:
    engine = make_engine(DatabaseUrl(url))
    try:
        with engine.connect() as connection:
            tables = sorted(inspect(connection).get_table_names())
            slots = sorted(connection.execute(select(slots_table)).all())
    finally:
        engine.dispose()
    return tables, slots


def test_decimals_round_trip_exactly(engine: Engine) -> None:
    quotes = projection_tables("a").quotes
    rows = [
        {
            "instrument": f"I{index}",
            "last": value,
            "bid": -value,
            "ask": None,
            "volume": value,
            "timestamp": datetime(2024, 1, 1, tzinfo=UTC),
            "as_of": index,
        }
        for index, value in enumerate(EXACT_DECIMALS)
    ]
    with engine.begin() as connection:
        connection.execute(insert(quotes), rows)
    with engine.connect() as connection:
        stored = connection.execute(
            select(quotes.c.last, quotes.c.bid, quotes.c.ask).order_by(quotes.c.as_of)
        ).all()
    for value, (last, bid, ask) in zip(EXACT_DECIMALS, stored, strict=True):
        assert type(last) is Decimal and type(bid) is Decimal
        assert (last, bid, ask) == (value, -value, None)


def test_equal_decimals_match_in_filters_whatever_their_scale(engine: Engine) -> None:
    quotes = projection_tables("b").quotes
    with engine.begin() as connection:
        connection.execute(
            insert(quotes),
            {
                "instrument": "X",
                "last": Decimal("1.50"),
                "timestamp": datetime(2024, 1, 1, tzinfo=UTC),
                "as_of": 1,
            },
        )
        found = connection.execute(
            select(quotes.c.instrument).where(quotes.c.last == Decimal("1.5000"))
        ).scalar_one()
    assert found == "X"


def test_floats_are_refused_on_the_money_path(engine: Engine) -> None:
    quotes = projection_tables("a").quotes
    row = {"instrument": "F", "last": 1.5, "timestamp": datetime.now(UTC), "as_of": 1}
    with engine.begin() as connection, pytest.raises(StatementError, match="float"):
        connection.execute(insert(quotes), row)


def test_datetimes_come_back_aware_and_equal(engine: Engine) -> None:
    reconciliations = projection_tables("a").reconciliations
    started = datetime(2024, 3, 31, 23, 59, 59, 123456, tzinfo=timezone(timedelta(hours=5.5)))
    completed = datetime(2024, 4, 1, 0, 0, 0, 1, tzinfo=UTC)
    with engine.begin() as connection:
        connection.execute(
            insert(reconciliations),
            {
                "id": uuid4(),
                "policy": "ALERT",
                "started_at": started,
                "completed_at": completed,
                "corrected": False,
                "as_of": 7,
            },
        )
    with engine.connect() as connection:
        row = connection.execute(select(reconciliations)).one()
    assert row.started_at == started and row.completed_at == completed
    assert row.started_at.utcoffset() == timedelta(0) == row.completed_at.utcoffset()
    assert row.corrected is False


def test_naive_datetimes_are_refused(engine: Engine) -> None:
    quotes = projection_tables("a").quotes
    row = {"instrument": "N", "last": Decimal(1), "timestamp": datetime(2024, 1, 1), "as_of": 1}
    with engine.begin() as connection, pytest.raises(StatementError, match="naive"):
        connection.execute(insert(quotes), row)


def test_slots_are_separate_tables() -> None:
    a, b = projection_tables("a"), projection_tables("b")
    assert projection_tables("a") is a
    assert {t.name for t in a.all()}.isdisjoint(t.name for t in b.all())
    assert a.of("reconciliations") == (a.reconciliations, a.mismatches)
    assert b.of("audit") == (b.audit_chain,)
    with pytest.raises(ValueError):
        projection_tables("c")


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (Decimal("1E-18"), "0.000000000000000001"),
        (Decimal("1E+3"), "1000"),
        (Decimal("-0.00"), "0"),
        (Decimal("1.50"), "1.5"),
        (
            Decimal("-123456789012345678.123456789012345678"),
            "-123456789012345678.123456789012345678",
        ),
        (7, "7"),
    ],
)
def test_canonical_decimal_text_is_plain_and_exact(value: Decimal, text: str) -> None:
    assert canonical_decimal_text(value) == text


def test_concurrent_upgrades_all_end_at_head(database_url: str) -> None:
    with ProcessPoolExecutor(max_workers=4) as pool:
        revisions = list(pool.map(_upgrade_and_read_revision, [database_url] * 4))
    assert revisions == ["0001"] * 4
    assert _schema_snapshot(database_url)[1] == sorted((n, "a", 0) for n in PROJECTION_NAMES)


def _upgrade_and_read_revision(url: str) -> str | None:
    upgrade(url)
    return current_revision(url)
