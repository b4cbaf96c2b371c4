"""Events and read-model values as JSON, one shape for the API and the CLI
(`tradestate watch` prints exactly what `tradestate events export` writes)."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from enum import Enum
from functools import lru_cache
from typing import Any
from uuid import UUID

# Envelope attributes an event carries at the top level, not in `data`.
ENVELOPE = frozenset({"originator_id", "originator_version", "timestamp", "originator_topic"})


@lru_cache(maxsize=1024)
def camel(name: str) -> str:
    """`realized_pnl` -> `realizedPnl`."""
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)


def jsonable(value: Any) -> Any:
    """A value as JSON: decimals and ids as strings, date-times ISO 8601."""
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


def event_data(domain_event: Any) -> dict[str, Any]:
    """An event's own attributes (not its envelope), camelCase, as JSON."""
    return {camel(k): jsonable(v) for k, v in vars(domain_event).items() if k not in ENVELOPE}
