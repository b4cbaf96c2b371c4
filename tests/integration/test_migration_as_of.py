"""Migration 0005: trades and mismatches stored before it get the `as_of` they reflect
(a trade its fill's sequence, a mismatch its run's), and the schema then equals the
declared one, on both engines."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from uuid import uuid4

import sqlalchemy as sa
from alembic import command
from alembic.config import Config

from infrastructure.database import DatabaseUrl, make_engine
from infrastructure.migrate import alembic_config, upgrade
from infrastructure.readmodels import projection_tables


def _upgrade_to(url: str, revision: str) -> None:
    _migrate(url, command.upgrade, revision)


def _downgrade_to(url: str, revision: str) -> None:
    _migrate(url, command.downgrade, revision)


def _migrate(url: str, move: Callable[[Config, str], None], revision: str) -> None:
    engine = make_engine(DatabaseUrl(url))
    try:
        with engine.begin() as connection:
            config = alembic_config()
            config.attributes["connection"] = connection
            move(config, revision)
    finally:
        engine.dispose()


def test_rows_stored_before_0005_get_the_as_of_they_reflect(database_url: str) -> None:
    _upgrade_to(database_url, "0003")
    run = uuid4()
    now = datetime.now(UTC)
    engine = make_engine(DatabaseUrl(database_url))
    try:
        with engine.begin() as connection:
            for slot in ("a", "b"):
                connection.execute(
                    sa.text(
                        f"INSERT INTO rm_trades_{slot} (fill_id, order_id, account, instrument, "
                        "side, quantity, price, commission, realized_pnl, timestamp, sequence) "
                        "VALUES ('f1', :order, 'acc', 'X', 'BUY', '1', '10', '0', '0', :now, 41)"
                    ),
                    {"order": str(uuid4()) if "sqlite" in database_url else uuid4(), "now": now},
                )
                connection.execute(
                    sa.text(
                        f"INSERT INTO rm_reconciliations_{slot} "
                        "(id, policy, started_at, completed_at, corrected, as_of) "
                        "VALUES (:id, 'ALERT', :now, :now, false, 57)"
                    ),
                    {"id": run.hex if "sqlite" in database_url else run, "now": now},
                )
                connection.execute(
                    sa.text(
                        f"INSERT INTO rm_mismatches_{slot} (reconciliation_id, account, "
                        "instrument, local_quantity, broker_quantity, difference) "
                        "VALUES (:id, 'acc', 'X', '1', '2', '1')"
                    ),
                    {"id": run.hex if "sqlite" in database_url else run},
                )
        upgrade(database_url)
        with engine.connect() as connection:
            for slot in ("a", "b"):
                tables = projection_tables(slot)
                trade = connection.execute(sa.select(tables.trades)).one()._mapping
                mismatch = connection.execute(sa.select(tables.mismatches)).one()._mapping
                assert (trade["fill_id"], trade["as_of"]) == ("f1", 41)
                assert (mismatch["reconciliation_id"], mismatch["as_of"]) == (run, 57)
    finally:
        engine.dispose()
