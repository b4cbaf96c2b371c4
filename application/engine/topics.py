"""Event topics the engine follows (and decoding what it reads)."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from eventsourcing.application import Application
from eventsourcing.persistence import Notification
from eventsourcing.utils import get_topic

from domain.monitors import Monitor
from domain.orders import Order
from domain.positions import Position
from domain.quotes import Quotes
from domain.signals import Signal


def _topic(aggregate: type, event: str) -> str:
    # Events declared by @event("Name") are attached to the class at run time.
    return get_topic(getattr(aggregate, event))


QUOTES = get_topic(Quotes.Ingested)
ORDER_PLACED = get_topic(Order.Placed)
ORDER_FILLED = _topic(Order, "Filled")
ORDER_CANCELLED = _topic(Order, "Cancelled")
ORDER_REJECTED = _topic(Order, "Rejected")
ORDERS = (ORDER_PLACED, ORDER_FILLED, ORDER_CANCELLED, ORDER_REJECTED)
MONITOR_ARMED = get_topic(Monitor.Armed)
MONITOR_MARK_MOVED = _topic(Monitor, "WaterMarkMoved")
MONITOR_TRIGGERED = _topic(Monitor, "Triggered")
MONITOR_DISARMED = _topic(Monitor, "Disarmed")
MONITORS = (MONITOR_ARMED, MONITOR_MARK_MOVED, MONITOR_TRIGGERED, MONITOR_DISARMED)
POSITION_OPENED = get_topic(Position.Opened)
POSITION_FILL_APPLIED = _topic(Position, "FillApplied")
SIGNAL_GENERATED = get_topic(Signal.Generated)
SIGNAL_CLOSED = tuple(
    _topic(Signal, name) for name in ("Accepted", "Rejected", "Expired", "Cancelled", "Executed")
)
SIGNALS = (SIGNAL_GENERATED, *SIGNAL_CLOSED)


def decode(app: Application[Any], notification: Notification) -> Any:
    """The notification as its (upcast) domain event; callers know its type by topic."""
    return app.mapper.to_domain_event(notification)


def originator(notification: Notification) -> UUID:
    return UUID(str(notification.originator_id))
