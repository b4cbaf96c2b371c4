"""`asOf` of an object served by the API: the sequence of the last event its read-model
row reflects. A command saves several aggregates at once, and some events change no
row (a position's MonitorAttached), so the command's last sequence is not every
object's `asOf`; these are the events that are."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from uuid import UUID

from eventsourcing.persistence import Recording
from eventsourcing.utils import get_topic

from application.projections import ALL_PROJECTIONS

SERVED_EVENTS: frozenset[type[Any]] = frozenset(
    event_class for projection in ALL_PROJECTIONS for event_class in projection.events()
)
SERVED_TOPICS: tuple[str, ...] = tuple(sorted(get_topic(e) for e in SERVED_EVENTS))


def served_sequences(recordings: Sequence[Recording[UUID]]) -> dict[UUID, int]:
    """Per aggregate saved, the sequence of its last event a read model applies."""
    found: dict[UUID, int] = {}
    for recording in recordings:
        event = recording.domain_event
        if type(event) in SERVED_EVENTS:
            sequence = recording.notification.id
            found[event.originator_id] = max(found.get(event.originator_id, 0), sequence)
    return found
