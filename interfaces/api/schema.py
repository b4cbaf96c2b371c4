"""The strawberry schema: roots, scalars, limits and error codes."""

from __future__ import annotations

from typing import Any

import strawberry
from graphql import GraphQLError
from strawberry.schema.schema import (
    DEFAULT_ALLOWED_OPERATION_TYPES,
    StrawberryGraphQLCoreExecutionContext,
)
from strawberry.types.graphql import OperationType

from infrastructure.settings import Settings
from interfaces.api.errors import ErrorCodes, log_unexpected
from interfaces.api.limits import document_limits
from interfaces.api.mutations import Mutation
from interfaces.api.queries import Query
from interfaces.api.scalars import SCALAR_OVERRIDES
from interfaces.api.subscriptions import Subscription


class TradestateSchema(strawberry.Schema):
    def process_errors(
        self, errors: list[GraphQLError], execution_context: Any | None = None
    ) -> None:
        # Refusals (bad input, conflicts, auth) are answers, not faults: log only the rest.
        operation = getattr(execution_context, "operation_name", None)
        log_unexpected(errors, operation)

    async def execute(self, *args: Any, **kwargs: Any) -> Any:
        """Queries and mutations: subscriptions go over a WebSocket (`subscribe`);
        run by `execute` over plain HTTP they would resolve to null."""
        allowed = kwargs.get("allowed_operation_types") or DEFAULT_ALLOWED_OPERATION_TYPES
        kwargs["allowed_operation_types"] = set(allowed) - {OperationType.SUBSCRIPTION}
        return await super().execute(*args, **kwargs)


class PerEventExecutionContext(StrawberryGraphQLCoreExecutionContext):
    """Each subscription event executes with its own sub-field memo.

    graphql-core 3.3 builds a subscription's per-event executor as a shallow copy,
    so every event shares the subscription's memo of collected sub-fields; its keys
    are ids of objects built per event, so it never hits and grows by ~1.2 KB per
    event per open subscription until the subscription ends (and an id reused after
    garbage collection could even hit a stale entry). tests/e2e/test_memory.py
    catches it.
    """

    def build_per_event_executor(self, payload: Any) -> Any:
        executor = super().build_per_event_executor(payload)
        executor._relevant_sub_fields = {}
        return executor


def build_schema(settings: Settings) -> strawberry.Schema:
    return TradestateSchema(
        query=Query,
        mutation=Mutation,
        subscription=Subscription,
        scalar_overrides=SCALAR_OVERRIDES,  # type: ignore[arg-type]
        extensions=[*document_limits(settings), ErrorCodes],
        execution_context_class=PerEventExecutionContext,
    )
