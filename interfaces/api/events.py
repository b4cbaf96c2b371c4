"""The event log as the API shows it: stored notifications in, `Event` objects out."""

from __future__ import annotations

from typing import Any

from application.event_names import event_type, topics_for
from interfaces.api.types import Event
from interfaces.event_json import event_data

__all__ = ["to_event", "topics_for"]


def to_event(mapper: Any, notification: Any) -> Event:
    """A stored notification, upcast and decoded, as the API's Event."""
    domain_event = mapper.to_domain_event(notification)
    data = event_data(domain_event)
    return Event(
        sequence=notification.id,
        aggregate_id=str(notification.originator_id),
        aggregate_version=notification.originator_version,
        type=event_type(notification.topic),
        timestamp=domain_event.timestamp,
        data=data,
    )
