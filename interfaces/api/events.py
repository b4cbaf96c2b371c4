"""The event log as the API shows it: stored notifications in, `Event` objects out."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from decimal import Decimal
from enum import Enum
from functools import lru_cache
from typing import Any
from uuid import UUID

from eventsourcing.domain import CanMutateAggregate
from eventsourcing.utils import get_topic

from application.event_names import event_type
from domain.errors import BadInput
from domain.fills import Fill
from domain.monitors import Monitor
from domain.orders import Order
from domain.positions import Position
from domain.quotes import Quotes
from domain.reconciliation import Reconciliation
from domain.signals import Signal
from interfaces.api.types import Event

AGGREGATES = (Order, Fill, Position, Signal, Monitor, Quotes, Reconciliation)
_BASES = {"Event", "Created"}  # bases the aggregates never record
_ENVELOPE = {"originator_id", "originator_version", "timestamp", "originator_topic"}


@lru_cache(maxsize=1)
def topics_by_type() -> dict[str, tuple[str, ...]]:
    """API event type name -> the stored topics of that type (all versions share one)."""
    found: dict[str, set[str]] = {}
    for aggregate in AGGREGATES:
        for attribute in vars(aggregate).values():
            if (
                isinstance(attribute, type)
                and issubclass(attribute, CanMutateAggregate)
                and attribute.__name__ not in _BASES
            ):
                topic = get_topic(attribute)
                found.setdefault(event_type(topic), set()).add(topic)
    return {name: tuple(sorted(topics)) for name, topics in found.items()}


def topics_for(types: Sequence[str] | None) -> tuple[str, ...]:
    """The topics to select for `types`; BAD_USER_INPUT naming unknown types."""
    if not types:
        return ()
    known = topics_by_type()
    unknown = sorted(set(types) - set(known))
    if unknown:
        raise BadInput(
            f"unknown event types {', '.join(unknown)}; known: {', '.join(sorted(known))}",
            field="types",
        )
    return tuple(topic for name in types for topic in known[name])


def jsonable(value: Any) -> Any:
    """Event attributes as JSON: decimals and ids as strings, date-times ISO 8601."""
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, UUID):
        return str(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    return value


def to_event(mapper: Any, notification: Any) -> Event:
    """A stored notification, upcast and decoded, as the API's Event."""
    domain_event = mapper.to_domain_event(notification)
    data = {
        _camel(key): jsonable(value)
        for key, value in vars(domain_event).items()
        if key not in _ENVELOPE
    }
    return Event(
        sequence=notification.id,
        aggregate_id=str(notification.originator_id),
        aggregate_version=notification.originator_version,
        type=event_type(notification.topic),
        timestamp=domain_event.timestamp,
        data=data,
    )


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)
