"""What commands answer: the aggregates they touched and the last sequence appended."""

from __future__ import annotations

from dataclasses import dataclass

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


@dataclass(frozen=True)
class SignalResult:
    signal: Signal
    sequence: int
    order: Order | None = None


@dataclass(frozen=True)
class OrderResult:
    order: Order
    sequence: int
    appended: bool = True


@dataclass(frozen=True)
class FillResult:
    order: Order
    fill: Fill
    position: Position
    sequence: int  # the command's last event
    fill_sequence: int  # the fill's own event (the trade's sequence)
    appended: bool = True


@dataclass(frozen=True)
class MonitorResult:
    monitor: Monitor
    sequence: int
    exit_order: Order | None = None


@dataclass(frozen=True)
class ReconciliationResult:
    reconciliation: Reconciliation
    sequence: int
