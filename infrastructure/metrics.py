"""Prometheus metrics, all named `tradestate_*`, on one registry per process.

The objects live here so every layer that counts something imports them from
one place; `/metrics` renders `REGISTRY`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from eventsourcing.persistence import Recording
from prometheus_client import CONTENT_TYPE_LATEST as CONTENT_TYPE
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest

from application.event_names import event_type
from domain.reconciliation import Reconciliation

REGISTRY = CollectorRegistry(auto_describe=True)

EVENTS_APPENDED = Counter(
    "tradestate_events_appended_total",
    "Events appended to the event store, by API event type.",
    ["type"],
    registry=REGISTRY,
)
COMMAND_SECONDS = Histogram(
    "tradestate_command_seconds",
    "Latency of application commands (mutations), by command and outcome.",
    ["command", "outcome"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5),
    registry=REGISTRY,
)
GRAPHQL_ERRORS = Counter(
    "tradestate_graphql_errors_total",
    "GraphQL errors answered, by extensions.code.",
    ["code"],
    registry=REGISTRY,
)
PROJECTION_LAG = Gauge(
    "tradestate_projection_lag_events",
    "Events the projection has still to apply (head sequence minus its sequence).",
    ["projection"],
    registry=REGISTRY,
)
PROJECTION_SEQUENCE = Gauge(
    "tradestate_projection_sequence",
    "The last sequence a projection applied.",
    ["projection"],
    registry=REGISTRY,
)
PROJECTION_EVENTS_APPLIED = Counter(
    "tradestate_projection_events_applied_total",
    "Events applied by a projection (rate() of it is applied/s).",
    ["projection"],
    registry=REGISTRY,
)
PROJECTION_ERRORS = Gauge(
    "tradestate_projection_failed",
    "1 while a projection is stopped at an event it failed on.",
    ["projection"],
    registry=REGISTRY,
)
HEAD_SEQUENCE = Gauge(
    "tradestate_head_sequence", "The last sequence in the event log.", registry=REGISTRY
)
SUBSCRIPTIONS = Gauge(
    "tradestate_subscriptions",
    "Open GraphQL subscriptions, by subscription field.",
    ["field"],
    registry=REGISTRY,
)
SUBSCRIPTION_EXECUTIONS = Gauge(
    "tradestate_subscription_executions",
    "Running subscription executions, by field; identical subscriptions share one.",
    ["field"],
    registry=REGISTRY,
)
MESSAGES_DELIVERED = Counter(
    "tradestate_subscription_messages_delivered_total",
    "Subscription messages handed to clients, by subscription field.",
    ["field"],
    registry=REGISTRY,
)
MESSAGES_DROPPED = Counter(
    "tradestate_subscription_messages_dropped_total",
    "Subscription messages dropped (conflated or buffer overflow), by field and reason.",
    ["field", "reason"],
    registry=REGISTRY,
)
SUBSCRIBERS_CLOSED_SLOW = Counter(
    "tradestate_subscriptions_overflowed_total",
    "Subscriptions closed because their buffer overflowed (a slow client).",
    ["field"],
    registry=REGISTRY,
)
RECONCILIATION_MISMATCHES = Counter(
    "tradestate_reconciliation_mismatches_total",
    "Mismatches found by reconciliation runs, by policy.",
    ["policy"],
    registry=REGISTRY,
)


def count_recorded(recordings: Sequence[Recording[Any]]) -> None:
    """Count one save's events by API type, and the mismatches of a reconciliation run
    (a run is saved whole, so its Started event names the policy)."""
    policies: dict[Any, str] = {}
    mismatches: list[Any] = []
    for recording in recordings:
        event = recording.domain_event
        EVENTS_APPENDED.labels(event_type(recording.notification.topic)).inc()
        if isinstance(event, Reconciliation.Started):
            policies[event.originator_id] = event.policy
        elif isinstance(event, Reconciliation.MismatchDetected):
            mismatches.append(event.originator_id)
    for run in mismatches:
        RECONCILIATION_MISMATCHES.labels(policies.get(run, "UNKNOWN")).inc()


def render() -> bytes:
    """The registry in the Prometheus text format."""
    return generate_latest(REGISTRY)


__all__ = [
    "COMMAND_SECONDS",
    "CONTENT_TYPE",
    "EVENTS_APPENDED",
    "GRAPHQL_ERRORS",
    "HEAD_SEQUENCE",
    "MESSAGES_DELIVERED",
    "MESSAGES_DROPPED",
    "PROJECTION_ERRORS",
    "PROJECTION_EVENTS_APPLIED",
    "PROJECTION_LAG",
    "PROJECTION_SEQUENCE",
    "RECONCILIATION_MISMATCHES",
    "REGISTRY",
    "SUBSCRIBERS_CLOSED_SLOW",
    "SUBSCRIPTIONS",
    "SUBSCRIPTION_EXECUTIONS",
    "count_recorded",
    "render",
]
