"""The event log as the API shows it: stored notifications in, `Event` objects out."""

from __future__ import annotations

from typing import Any

import strawberry
from strawberry.scalars import JSON
from strawberry.types.nodes import SelectedField

from application.event_names import event_type, topics_for
from interfaces.api.types import Event
from interfaces.event_json import event_data

__all__ = ["STATE_FIELDS", "header_event", "selects", "to_event", "topics_for"]

#: Event fields read from the stored state (the others come from the log's columns).
STATE_FIELDS = frozenset({"data", "timestamp"})


def to_event(mapper: Any, notification: Any) -> Event:
    """A stored notification, upcast and decoded, as the API's Event."""
    domain_event = mapper.to_domain_event(notification)
    data = event_data(domain_event)
    return Event(
        sequence=notification.id,
        aggregate_id=strawberry.ID(str(notification.originator_id)),
        aggregate_version=notification.originator_version,
        type=event_type(notification.topic),
        timestamp=domain_event.timestamp,
        data=JSON(data),
    )


def header_event(_mapper: Any, notification: Any) -> Event:
    """An Event from the log's columns alone, for a selection without STATE_FIELDS."""
    return Event(
        sequence=notification.id,
        aggregate_id=strawberry.ID(str(notification.originator_id)),
        aggregate_version=notification.originator_version,
        type=event_type(notification.topic),
        timestamp=None,  # type: ignore[arg-type]  # not selected
        data=JSON(None),  # not selected
    )


def selects(selections: Any, names: frozenset[str]) -> bool:
    """Whether any field named in `names` is selected anywhere below `selections`
    (strawberry's selected fields; fragments and inline fragments included)."""
    for selection in selections or ():
        if isinstance(selection, SelectedField) and selection.name in names:
            return True
        if selects(getattr(selection, "selections", None), names):
            return True
    return False
