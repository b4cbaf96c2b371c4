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
