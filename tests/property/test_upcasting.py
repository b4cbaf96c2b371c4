"""Upcasting is total over stored versions (SPEC section 4): every class version a
store may hold, of every event class, decodes to the current version with the
documented mapping, whatever the old payload held."""

from __future__ import annotations

import importlib
import inspect
import json
import pkgutil
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal as D
from typing import Any
from uuid import UUID, uuid4

import pytest
from eventsourcing.domain import Aggregate, CanMutateAggregate
from eventsourcing.persistence import StoredEvent
from eventsourcing.utils import get_topic
from hypothesis import given
from hypothesis import strategies as st

import domain
from domain.signals import Signal
from domain.values import SignalStatus
from infrastructure.compatibility import check_compatibility
from infrastructure.projections.rebuild import rebuild
from tests.property.budget import share
from tests.property.stores import sqlite_system


def versioned_classes() -> list[type[Any]]:
    """Every class whose stored state carries a class version: each domain aggregate
    (its snapshots) and each event class nested in it."""
    found: list[type[Any]] = []
    for info in pkgutil.iter_modules(domain.__path__):
        module = importlib.import_module(f"domain.{info.name}")
        for _, aggregate in inspect.getmembers(module, inspect.isclass):
            if not (issubclass(aggregate, Aggregate) and aggregate.__module__ == module.__name__):
                continue
            found.append(aggregate)
            for _, member in inspect.getmembers(aggregate, inspect.isclass):
                if issubclass(member, CanMutateAggregate) and member.__module__ == module.__name__:
                    found.append(member)
    return found


@dataclass(frozen=True)
class OldSignal:
    """A Signal.Generated payload as some version wrote it, and what it must decode to."""

    version: int
    state: dict[str, Any]
    strength: D
    expires_at: datetime | None


texts = st.one_of(st.none(), st.text(st.characters(codec="utf-8"), max_size=20))
common = st.fixed_dictionaries(
    {
        "strategy": st.sampled_from(["legacy-ma", "x", "s" * 64]),
        "instrument": st.sampled_from(["ACME", "BRK.B", "EUR/USD"]),
        "side": st.sampled_from(["BUY", "SELL"]),
        "quantity": st.one_of(st.none(), st.decimals(min_value="0.001", max_value=10**6, places=3)),
        "reason": texts,
        "timestamp": st.datetimes(
            min_value=datetime(2020, 1, 1), max_value=datetime(2030, 1, 1), timezones=st.just(UTC)
        ),
    }
)
hundredths = st.integers(0, 10_000)


@st.composite
def v1_signals(draw: st.DrawFn) -> OldSignal:
    """v1: `confidence` 0-100, written as a JSON integer, a JSON number with
    decimals, or a Decimal; the class version was implicit (or written as 1)."""
    state: dict[str, Any] = draw(common)
    cents = draw(hundredths)
    written = draw(st.sampled_from(["int", "float", "decimal"]))
    if written == "int":
        confidence: Any = cents // 100
        expected = D(cents // 100) / 100
    elif written == "float":
        confidence = cents / 100
        expected = D(json.dumps(confidence)) / 100  # the number as the JSON text holds it
    else:
        confidence = D(cents).scaleb(-2)
        expected = D(cents).scaleb(-4)
    state["confidence"] = confidence
    if draw(st.booleans()):
        state["class_version"] = 1
    return OldSignal(1, state, expected, None)


@st.composite
def v2_signals(draw: st.DrawFn) -> OldSignal:
    state = draw(common)
    strength = D(draw(hundredths)).scaleb(-4)
    return OldSignal(2, {**state, "class_version": 2, "strength": strength}, strength, None)


@st.composite
def v3_signals(draw: st.DrawFn) -> OldSignal:
    state: dict[str, Any] = draw(common)
    strength = D(draw(hundredths)).scaleb(-4)
    expires = draw(st.one_of(st.none(), st.timedeltas(timedelta(0), timedelta(days=9000))))
    expires_at = None if expires is None else datetime(2020, 1, 1, tzinfo=UTC) + expires
    state = {**state, "class_version": 3, "strength": strength, "expires_at": expires_at}
    return OldSignal(3, state, strength, expires_at)


# Stored versions the code must read, per event class with more than one version.
OLD_PAYLOADS = {Signal.Generated: {1: v1_signals(), 2: v2_signals(), 3: v3_signals()}}


def test_every_stored_version_of_every_event_class_has_a_payload_strategy():
    versioned = {cls for cls in versioned_classes() if getattr(cls, "class_version", 1) > 1}
    assert versioned == set(OLD_PAYLOADS), "add old payloads for the new class version"
    for cls, by_version in OLD_PAYLOADS.items():
        assert set(by_version) == set(range(1, cls.class_version + 1))


def test_the_class_walk_finds_the_domain_aggregates_and_events():
    found = {get_topic(cls) for cls in versioned_classes()}
    assert {
        "domain.signals:Signal",
        "domain.signals:Signal.Generated",
        "domain.positions:Position.FillApplied",
    } <= found
    assert len(found) >= 20, sorted(found)


any_old_signal = st.one_of(*OLD_PAYLOADS[Signal.Generated].values())


@pytest.mark.slow
@share(0.3, store=True)
@given(st.lists(any_old_signal, min_size=1, max_size=6))
def test_old_signal_payloads_decode_to_the_current_version(store_dir, olds):
    with sqlite_system(store_dir) as system:
        app = system.commands
        transcoder = app.store.mapper.transcoder
        ids = [uuid4() for _ in olds]
        app.store.recorder.insert_events(
            [
                StoredEvent(
                    originator_id=signal_id,
                    originator_version=1,
                    topic=get_topic(Signal.Generated),
                    state=transcoder.encode({**old.state, "originator_topic": get_topic(Signal)}),
                )
                for signal_id, old in zip(ids, olds, strict=True)
            ]
        )
        check_compatibility(system.engine, system.url)
        rebuild(system.engine, app.store.recorder, app.store.mapper, ["signals"])
        for signal_id, old in zip(ids, olds, strict=True):
            assert_decoded(app.store.repository.get(signal_id), signal_id, old)
            row = system.read.signal(signal_id)
            assert row is not None
            assert (row["strength"], row["status"]) == (old.strength, "PENDING")
            assert row["expires_at"] == old.expires_at


def assert_decoded(signal: Signal, signal_id: UUID, old: OldSignal) -> None:
    assert isinstance(signal, Signal) and signal.id == signal_id
    assert signal.strength == old.strength and D(0) <= signal.strength <= D(1)
    assert signal.expires_at == old.expires_at
    for field in ("strategy", "instrument", "side", "quantity", "reason"):
        assert getattr(signal, field) == old.state[field], field
    assert signal.created_on == old.state["timestamp"]
    assert signal.status is SignalStatus.PENDING
    assert not hasattr(signal, "confidence")
