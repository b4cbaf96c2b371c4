from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from application.commands import Commands
from application.store import Store


class FakeClock:
    def __init__(self) -> None:
        self.now = datetime(2026, 11, 24, 14, 32, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


class FakeBroker:
    """A broker book held in a dict (subclasses nothing of ours: the port is a Protocol)."""

    def __init__(self) -> None:
        self.book: dict[tuple[str, str], Decimal] = {}

    def positions(self):
        return dict(self.book)


@pytest.fixture
def clock():
    return FakeClock()


@pytest.fixture
def broker():
    return FakeBroker()


@pytest.fixture
def app(clock, broker):
    """The application on eventsourcing's in-memory (POPO) store."""
    application = Commands.build(Store(clock=clock), broker=broker)
    yield application
    application.store.close()
