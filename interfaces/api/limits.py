"""Limits: list arguments capped (refused beyond, never clamped), documents limited
by tokens, aliases and their expanded cost (fields and depth through fragment
spreads, measured in linear time before validation: interfaces/api/cost.py), text
limited to what every store can hold. The request body size is capped by the
Litestar app (`request_max_body_size`)."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from contextvars import ContextVar
from typing import Any

from graphql import GraphQLError, StringValueNode, Visitor, visit
from strawberry.extensions import MaxAliasesLimiter, MaxTokensLimiter
from strawberry.extensions.base_extension import SchemaExtension

from application.inputs import MAX_QUOTES_PER_BATCH
from domain.errors import BadInput
from infrastructure.pages import ByteBudget
from infrastructure.settings import Settings
from interfaces.api.cost import FragmentCycle, document_cost

MAX_LIMIT = 1_000
MAX_THROTTLE_MS = 60_000
MAX_INSTRUMENTS = 1_000


def check_range(value: int, field: str, minimum: int, maximum: int | None = None) -> int:
    """Refuse (never clamp) a number outside what the argument allows, naming that range."""
    if value < minimum or (maximum is not None and value > maximum):
        allowed = f"within {minimum}..{maximum}" if maximum is not None else f">= {minimum}"
        raise BadInput(f"{field} must be {allowed} (got {value})", field=field)
    return value


def check_limit(value: int, field: str = "limit", maximum: int = MAX_LIMIT) -> int:
    return check_range(value, field, 1, maximum)


def check_after(value: int | None) -> int | None:
    return None if value is None else check_range(value, "after", 0)


def check_quotes(count: int) -> None:
    if count > MAX_QUOTES_PER_BATCH:
        raise BadInput(
            f"at most {MAX_QUOTES_PER_BATCH} quotes per batch (got {count})", field="quotes"
        )


def check_min_sequence(value: int | None) -> int | None:
    return None if value is None else check_range(value, "minSequence", 0)


def check_list(values: list[str] | None, field: str) -> list[str] | None:
    if values is not None and len(values) > MAX_INSTRUMENTS:
        raise BadInput(f"{field} takes at most {MAX_INSTRUMENTS} values", field=field)
    return values


def unstorable(value: Any) -> str | None:
    """What makes a string in `value` (JSON-like) unstorable, if one is."""
    pending = [value]
    while pending:
        item = pending.pop()
        if isinstance(item, str):
            if "\x00" in item:
                return "a NUL character (\\u0000)"
            if not item.isascii():
                try:
                    item.encode()
                except UnicodeEncodeError:
                    return "a lone surrogate (\\uD800-\\uDFFF)"
        elif isinstance(item, dict):
            pending.extend(item)
            pending.extend(item.values())
        elif isinstance(item, list):
            pending.extend(item)
    return None


class _StringLiterals(Visitor):
    def __init__(self) -> None:
        super().__init__()
        self.values: list[str] = []

    def enter_string_value(self, node: StringValueNode, *_: Any) -> None:
        self.values.append(node.value)


class PlainText(SchemaExtension):
    """Refuse strings no store can hold, in variables or literals: PostgreSQL refuses
    NUL in text and no driver encodes a lone surrogate (JSON's `\\uD800`), so they
    would fail inside a query or a projection instead of as bad input."""

    def on_execute(self) -> Iterator[None]:
        context = self.execution_context
        literals = _StringLiterals()
        if context.graphql_document is not None:
            visit(context.graphql_document, literals)
        problem = unstorable([context.variables, literals.values])
        if problem is not None:
            # Raised before execution: carries its code (ErrorCodes does not see it).
            message = f"text may not contain {problem}"
            raise GraphQLError(message, extensions={"code": "BAD_USER_INPUT"})
        yield


class DocumentCost(SchemaExtension):
    """Refuse a document whose expanded cost is over the budget, or whose fragments
    form a cycle, before validation (which follows spreads without memo) and before
    any resolver: the analysis is linear in the document's size (cost.py)."""

    def __init__(self, *, max_depth: int, max_fields: int) -> None:
        super().__init__()
        self.max_depth = max_depth
        self.max_fields = max_fields

    def on_validate(self) -> Iterator[None]:
        context = self.execution_context
        if context.graphql_document is not None and context.pre_execution_errors is None:
            problem = self.problem(context.graphql_document)
            if problem is not None:
                # Set here, validation is skipped (document_cache.CheckedValidation).
                error = GraphQLError(problem, extensions={"code": "BAD_USER_INPUT"})
                context.pre_execution_errors = [error]
        yield

    def problem(self, document: Any) -> str | None:
        try:
            cost = document_cost(document, cap=self.max_fields + 1)
        except FragmentCycle as cycle:
            return str(cycle)
        except RecursionError:
            return "the document nests too deeply"
        if cost.fields > self.max_fields:
            return (
                f"the document selects more than {self.max_fields} fields once its "
                "fragments are expanded"
            )
        if cost.depth > self.max_depth:
            return f"the document's depth is {cost.depth}; at most {self.max_depth}"
        return None


_response_budget: ContextVar[ByteBudget | None] = ContextVar("response_budget", default=None)


class ResponseBytes(SchemaExtension):
    """One byte budget per operation, shared by all its fields (ten aliases of
    `events` share one): resolvers run in tasks copied from this context."""

    def __init__(self, *, max_bytes: int) -> None:
        super().__init__()
        self.max_bytes = max_bytes

    def on_execute(self) -> Iterator[None]:
        token = _response_budget.set(ByteBudget(self.max_bytes))
        yield
        with contextlib.suppress(ValueError):  # set in another context: nothing to undo
            _response_budget.reset(token)


def response_budget(max_bytes: int) -> ByteBudget:
    """The running operation's byte budget (a fresh one outside an operation)."""
    return _response_budget.get() or ByteBudget(max_bytes)


def document_limits(settings: Settings) -> list[SchemaExtension]:
    return [
        DocumentCost(max_depth=settings.graphql_max_depth, max_fields=settings.graphql_max_fields),
        MaxAliasesLimiter(max_alias_count=settings.graphql_max_aliases),
        MaxTokensLimiter(max_token_count=settings.graphql_max_tokens),
        PlainText(),
        ResponseBytes(max_bytes=settings.max_response_bytes),
    ]
