"""Public event type names: `domain.orders:Order.Filled` is `OrderFilled`."""

from __future__ import annotations

from functools import lru_cache


@lru_cache(maxsize=256)
def event_type(topic: str) -> str:
    """The name an event type has in the API, the CLI and metrics."""
    qualified = topic.rpartition(":")[2]
    return qualified.replace(".", "")
