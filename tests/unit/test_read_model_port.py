"""The read-model port (ADR 022): infrastructure's queries implement it, and the
interfaces read the read models only through it."""

import inspect
import re
from pathlib import Path

from sqlalchemy import Engine, create_engine

from application.read_models import AccountQueries, ReadModelQueries
from infrastructure.readmodels.account_queries import AccountReads
from infrastructure.readmodels.queries import ReadModels

ROOT = Path(__file__).resolve().parents[2]


def _port(engine: Engine) -> ReadModelQueries:
    """Typed so that mypy checks the implementations conform to the port."""
    accounts: AccountQueries = AccountReads(engine)
    assert accounts is not None
    read: ReadModelQueries = ReadModels(engine)
    return read


def _methods(protocol: type) -> dict[str, inspect.Signature]:
    return {
        name: inspect.signature(member)
        for name, member in vars(protocol).items()
        if inspect.isfunction(member) and not name.startswith("_")
    }


def test_the_implementations_have_every_query_of_the_port_with_its_parameters():
    read = _port(create_engine("sqlite://"))
    for protocol, implementation in ((ReadModelQueries, read), (AccountQueries, read.accounts)):
        for name, signature in _methods(protocol).items():
            found = inspect.signature(getattr(implementation, name))
            wanted = [p for p in signature.parameters if p != "self"]
            assert list(found.parameters)[: len(wanted)] == wanted, name


def test_interfaces_import_no_read_model_implementation_outside_the_composition_root():
    pattern = re.compile(r"^\s*(from|import) infrastructure\.readmodels", re.MULTILINE)
    offenders = [
        str(path.relative_to(ROOT))
        for path in sorted((ROOT / "interfaces").rglob("*.py"))
        if path.name != "composition.py" and pattern.search(path.read_text())
    ]
    assert offenders == []


def test_tracked_at_reads_the_active_slots_tracking():
    from datetime import UTC, datetime

    from sqlalchemy import insert

    from infrastructure.readmodels.control import slots_table, tracking_table
    from infrastructure.readmodels.metadata import metadata

    engine = create_engine("sqlite://")
    metadata.create_all(engine, tables=[slots_table, tracking_table])
    read = ReadModels(engine)
    assert read.tracked_at("positions") is None
    moved = datetime(2026, 11, 29, 12, 0, tzinfo=UTC)
    with engine.begin() as connection:
        connection.execute(
            insert(slots_table).values(name="positions", active_slot="b", generation=1)
        )
        for slot, when in (("a", datetime(2026, 1, 1, tzinfo=UTC)), ("b", moved)):
            connection.execute(
                insert(tracking_table).values(
                    name=f"positions:{slot}", notification_id=1, updated_at=when
                )
            )
    assert read.tracked_at("positions") == moved
    read.ping()
