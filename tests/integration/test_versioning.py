"""Upcasting of stored old versions, and the start-up compatibility check."""

import json
import shutil
from decimal import Decimal as D
from pathlib import Path
from uuid import uuid4

import pytest
from eventsourcing.persistence import StoredEvent

from domain.values import SignalStatus
from infrastructure.compatibility import IncompatibleStore
from infrastructure.settings import load_settings
from interfaces.composition import build_system
from tests.fixtures.make_old_signal_store import FIXTURE, V1_SIGNAL, V2_SIGNAL


@pytest.fixture
def old_store(tmp_path: Path) -> str:
    copy = tmp_path / "old.db"
    shutil.copy(FIXTURE, copy)
    return f"sqlite:///{copy}"


def test_v1_and_v2_signals_upcast_step_by_step(old_store):
    system = build_system(load_settings(database_url=old_store))
    v1 = system.app.repository.get(V1_SIGNAL)
    v2 = system.app.repository.get(V2_SIGNAL)
    assert v1.strength == D("0.8") and v1.expires_at is None
    assert v2.strength == D("0.35") and v2.expires_at is None
    assert v1.status is SignalStatus.PENDING
    accepted = system.commands.signals.accept_signal(V1_SIGNAL)
    assert accepted.order.client_order_id == f"signal-{V1_SIGNAL}"
    system.close()


def insert_raw(url: str, topic: str, state: dict) -> None:
    system = build_system(load_settings(database_url=url))
    system.app.recorder.insert_events([StoredEvent(uuid4(), 1, topic, json.dumps(state).encode())])
    system.close()


def test_an_unknown_event_type_stops_start_up_naming_it(database_url):
    insert_raw(database_url, "domain.futures:Future.Listed", {"timestamp": None})
    with pytest.raises(IncompatibleStore, match=r"domain.futures:Future.Listed .*unknown type"):
        build_system(load_settings(database_url=database_url))


def test_a_newer_event_version_stops_start_up_naming_it(database_url):
    insert_raw(database_url, "domain.signals:Signal.Generated", {"class_version": 9})
    with pytest.raises(IncompatibleStore, match=r"Signal.Generated version 9 .*up to version 3"):
        build_system(load_settings(database_url=database_url))
