"""What commands answer: the aggregates they touched and the last sequence appended."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Protocol
from uuid import UUID

from eventsourcing.domain import Aggregate

from domain.fills import Fill
from domain.monitors import Monitor
from domain.orders import Order
from domain.positions import Position
from domain.reconciliation import Reconciliation
from domain.signals import Signal


@dataclass(frozen=True)
class Ingested:
    accepted: int
    sequence: int


class Served(Protocol):
    """A command's answer: its last `sequence`, and `as_of` per aggregate where the last
    sequence its read-model row reflects differs from that (application/served.py)."""

    @property
    def sequence(self) -> int: ...

    @property
    def as_of(self) -> Mapping[UUID, int]: ...


def as_of(result: Served, aggregate: Aggregate) -> int:
    """The `asOf` to serve `aggregate` with, as the command left it."""
    return result.as_of.get(aggregate.id, result.sequence)


@dataclass(frozen=True)
class SignalResult:
    signal: Signal
    sequence: int
    order: Order | None = None
    as_of: Mapping[UUID, int] = field(default_factory=dict)


@dataclass(frozen=True)
class OrderResult:
    order: Order
    sequence: int
    appended: bool = True
    as_of: Mapping[UUID, int] = field(default_factory=dict)


@dataclass(frozen=True)
class FillResult:
    order: Order
    fill: Fill
    position: Position
    sequence: int  # the command's last event
    fill_sequence: int  # the fill's own event (the trade's sequence)
    appended: bool = True
    as_of: Mapping[UUID, int] = field(default_factory=dict)


@dataclass(frozen=True)
class MonitorResult:
    monitor: Monitor
    sequence: int
    exit_order: Order | None = None
    as_of: Mapping[UUID, int] = field(default_factory=dict)


@dataclass(frozen=True)
class ReconciliationResult:
    reconciliation: Reconciliation
    sequence: int
    as_of: Mapping[UUID, int] = field(default_factory=dict)
