"""The strawberry schema: roots, scalars, limits and error codes."""

from __future__ import annotations

from typing import Any

import strawberry
from graphql import GraphQLError
from strawberry.schema.schema import DEFAULT_ALLOWED_OPERATION_TYPES
from strawberry.tools import merge_types
from strawberry.types.graphql import OperationType

from infrastructure.settings import Settings
from interfaces.api.document_cache import CachedParse, CheckedValidation
from interfaces.api.errors import ErrorCodes, coded_results, log_unexpected
from interfaces.api.execution import ExecutionContext
from interfaces.api.limits import document_limits
from interfaces.api.mutations import Mutation
from interfaces.api.queries import Query
from interfaces.api.scalars import SCALAR_OVERRIDES
from interfaces.api.status_feed import StatusSubscription
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

    async def stream(self, *args: Any, **kwargs: Any) -> Any:
        """WebSocket operations (both protocols; `subscribe` comes here too): every
        error coded as over HTTP."""
        return coded_results(await super().stream(*args, **kwargs))


def build_schema(settings: Settings) -> strawberry.Schema:
    return TradestateSchema(
        query=Query,
        mutation=Mutation,
        subscription=merge_types("Subscription", (Subscription, StatusSubscription)),
        scalar_overrides=SCALAR_OVERRIDES,  # type: ignore[arg-type]
        # The limits are instances, shared by all requests (strawberry deprecates that and types
        # only classes and factories): made per request, MaxAliasesLimiter's rule would be a new
        # class each time, and the validation cache (keyed by the rules) would never hit.
        extensions=[
            *document_limits(settings),  # type: ignore[list-item]  # instances: see above
            CachedParse,
            CheckedValidation,
            ErrorCodes,
        ],
        execution_context_class=ExecutionContext,
    )
