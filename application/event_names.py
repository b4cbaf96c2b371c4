"""Public event type names: `domain.orders:Order.Filled` is `OrderFilled`."""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache

from eventsourcing.domain import CanMutateAggregate
from eventsourcing.utils import get_topic

from domain.errors import BadInput, cut
from domain.fills import Fill
from domain.monitors import Monitor
from domain.orders import Order
from domain.positions import Position
from domain.quotes import Quotes
from domain.reconciliation import Reconciliation, ReconciliationRequest
from domain.signals import Signal

AGGREGATES = (
    Order,
    Fill,
    Position,
    Signal,
    Monitor,
    Quotes,
    Reconciliation,
    ReconciliationRequest,
)
_BASES = {"Event", "Created"}  # bases the aggregates never record


@lru_cache(maxsize=256)
def event_type(topic: str) -> str:
    """The name an event type has in the API, the CLI and metrics."""
    qualified = topic.rpartition(":")[2]
    return qualified.replace(".", "")


@lru_cache(maxsize=1)
def topics_by_type() -> dict[str, tuple[str, ...]]:
    """Event type name -> the stored topics of that type (all versions share one)."""
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
    """The topics to select for `types`; BadInput naming unknown types."""
    if not types:
        return ()
    known = topics_by_type()
    unknown = sorted(set(types) - set(known))
    if unknown:
        raise BadInput(
            f"unknown event types {cut(', '.join(unknown), 80)}; known: {', '.join(sorted(known))}",
            field="types",
        )
    return tuple(topic for name in types for topic in known[name])
