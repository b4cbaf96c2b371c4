"""Deterministic ids: the same natural key always maps to one stream.

Deriving an aggregate id from its idempotency key makes the event store's
unique (id, version) constraint the idempotency guard, across processes too.
"""

from __future__ import annotations

from functools import lru_cache
from uuid import UUID, uuid5

NAMESPACE = UUID("6f1c7a2e-8d5b-4b0e-9a44-3f3f0c2d7e11")


@lru_cache(maxsize=65536)  # few pairs, each looked up on every fill
def position_id(account: str, instrument: str) -> UUID:
    return uuid5(NAMESPACE, f"position:{account}:{instrument}")


def order_id(client_order_id: str) -> UUID:
    return uuid5(NAMESPACE, f"order:{client_order_id}")


def fill_id(broker_fill_id: str) -> UUID:
    return uuid5(NAMESPACE, f"fill:{broker_fill_id}")


def signal_order_client_id(signal_id: UUID) -> str:
    return f"signal-{signal_id}"


def monitor_order_client_id(monitor_id: UUID) -> str:
    return f"monitor-{monitor_id}"


def requested_reconciliation_id(request_id: UUID) -> UUID:
    """The run that answers a ReconciliationRequest: one per request, whoever runs it."""
    return uuid5(NAMESPACE, f"reconciliation:{request_id}")
