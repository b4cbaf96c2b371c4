"""GraphQL errors: every error carries `extensions.code`; unexpected ones are masked.

Codes (the contract's): BAD_USER_INPUT, NOT_FOUND, CONFLICT, UNAUTHENTICATED,
FORBIDDEN, UNAVAILABLE, INTERNAL_SERVER_ERROR. Domain errors carry their code
(`domain/errors.py`); request errors (syntax, validation, limits, a value that
does not coerce) are BAD_USER_INPUT; anything else is logged with its stack
trace and answered with a generic message.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Iterator
from typing import Any, TypeVar

from graphql import GraphQLError
from strawberry.exceptions import MissingQueryError
from strawberry.extensions import SchemaExtension
from strawberry.schema.exceptions import CannotGetOperationTypeError, InvalidOperationTypeError

from domain.errors import ECHO_LIMIT, DomainError, echoed
from infrastructure.database import is_unreachable
from infrastructure.fanout import Overflowed
from infrastructure.logging import get_logger
from infrastructure.metrics import GRAPHQL_ERRORS

log = get_logger("tradestate.api")

T = TypeVar("T")
INTERNAL_MESSAGE = "Internal server error; it was logged on the server."


class ApiError(Exception):
    """A refusal by the API layer itself (auth, limits, read-your-writes)."""

    def __init__(self, message: str, code: str, *, field: str | None = None, **extra: Any):
        super().__init__(message)
        self.message = message
        self.code = code
        self.field = field
        self.extra = extra


def code_of(error: GraphQLError) -> str | None:
    return (error.extensions or {}).get("code")


UNREACHABLE_MESSAGE = "the database cannot be reached right now; retry"


# What strawberry raises for a request that names no runnable operation: the client's
# mistake (no query, an unknown operationName, an operation type the transport refuses).
REQUEST_MISTAKES = (MissingQueryError, CannotGetOperationTypeError, InvalidOperationTypeError)


def is_expected(original: BaseException | None) -> bool:
    return (
        original is None
        or isinstance(
            original, (DomainError, ApiError, Overflowed, GraphQLError, *REQUEST_MISTAKES)
        )
        or is_unreachable(original)
    )


def _request_mistake(original: Exception) -> str:
    if isinstance(original, InvalidOperationTypeError):
        kind = original.operation_type.value
        return (
            f"a {kind} cannot run here: over HTTP send queries and mutations, over a "
            "WebSocket subscriptions (graphql-ws also refuses queries and mutations)"
        )
    if isinstance(original, CannotGetOperationTypeError):
        if original.operation_name is None:
            return "the document has no operation, or several and no operationName"
        return f"the document has no operation named {echoed(original.operation_name)}"
    return "the request carries no query"


def nests_too_deeply(error: GraphQLError) -> bool:
    """The parser recursed once per level of a deeply nested document: bad input, and
    not worth a log entry of a thousand stack frames."""
    return error.path is None and isinstance(error.original_error, RecursionError)


def coded(error: GraphQLError) -> GraphQLError:
    """The error with an `extensions.code`, masked when it was unexpected."""
    if code_of(error) is not None:
        return error
    original = error.original_error
    extensions: dict[str, Any]
    message = error.message
    if isinstance(original, DomainError | ApiError):
        extensions = {"code": original.code}
        if original.field:
            extensions["field"] = original.field
        extensions.update(getattr(original, "extra", {}))
        message = original.message
    elif isinstance(original, Overflowed):
        extensions = {"code": "UNAVAILABLE", "lastSequence": original.last_sequence}
        message = f"{original}; resubscribe with after: <the last sequence you received>"
    elif isinstance(original, GraphQLError) and code_of(original):
        extensions = dict(original.extensions or {})
        message = original.message
    elif isinstance(original, REQUEST_MISTAKES):
        extensions = {"code": "BAD_USER_INPUT"}
        message = _request_mistake(original)
    elif is_unreachable(original):
        extensions = {"code": "UNAVAILABLE"}
        message = UNREACHABLE_MESSAGE
        log.warning("database unreachable", error=type(original).__name__)
    elif nests_too_deeply(error):
        extensions = {"code": "BAD_USER_INPUT"}
        message = "the document nests too deeply"
    elif error.path is None or isinstance(original, GraphQLError):
        # Raised before execution: syntax, validation, limits, input coercion.
        extensions = {"code": "BAD_USER_INPUT"}
    else:
        extensions = {"code": "INTERNAL_SERVER_ERROR"}
        message = INTERNAL_MESSAGE
    return GraphQLError(
        message,
        nodes=error.nodes,
        source=error.source,
        positions=error.positions,
        path=error.path,
        original_error=None,
        extensions=extensions,
    )


def log_unexpected(errors: list[GraphQLError], operation: str | None) -> None:
    """Faults at error level with their trace; the client's mistakes at info, without."""
    for error in errors:
        original = error.original_error
        if not is_expected(original) and not nests_too_deeply(error):
            log.error(
                "unexpected error in a GraphQL operation",
                operation=operation,
                path=error.path,
                exc_info=original,
            )
        else:
            log.info(
                "request refused",
                operation=echoed(operation),
                reason=echoed(cut_echoes(error.message), 160),
            )


MAX_MESSAGE = 600
# graphql-core quotes what it could not coerce whole (an enum value, a field name):
# any run of this many non-space characters is cut to a prefix.
_LONG_RUN = re.compile(rf"\S{{{ECHO_LIMIT + 20},}}")


def cut_echoes(message: str) -> str:
    """The message with each long run of text cut to a short prefix, and at most
    MAX_MESSAGE characters: a megabyte sent is never a megabyte answered or logged."""
    cut = _LONG_RUN.sub(lambda m: m[0][:ECHO_LIMIT] + "...", message)
    return cut if len(cut) <= MAX_MESSAGE else cut[: MAX_MESSAGE - 3] + "..."


def shortened(error: GraphQLError) -> GraphQLError:
    message = cut_echoes(error.message)
    if message == error.message:
        return error
    return GraphQLError(
        message,
        nodes=error.nodes,
        source=error.source,
        positions=error.positions,
        path=error.path,
        original_error=None,
        extensions=error.extensions,
    )


def code_all(errors: list[GraphQLError]) -> list[GraphQLError]:
    """Every error coded (and counted by code), whichever transport answers it."""
    result = [shortened(coded(e)) for e in errors]
    for error in result:
        GRAPHQL_ERRORS.labels(code_of(error) or "UNKNOWN").inc()
    return result


async def coded_results(results: AsyncIterator[T]) -> AsyncIterator[T]:
    """A stream's results (WebSocket operations) with coded errors: the `ErrorCodes`
    extension sees a streamed operation only after its last result."""
    try:
        async for result in results:
            errors = getattr(result, "errors", None)
            if errors:
                result.errors = code_all(errors)  # type: ignore[attr-defined]
            yield result
    finally:
        await results.aclose()  # type: ignore[attr-defined]


def as_graphql_error(error: Exception) -> GraphQLError:
    """An exception raised inside a subscription's stream, as a coded GraphQL error
    (stream errors bypass the operation's extensions)."""
    wrapped = coded(GraphQLError(str(error), path=[], original_error=error))
    if code_of(wrapped) == "INTERNAL_SERVER_ERROR":
        log.error("unexpected error in a subscription", exc_info=error)
    GRAPHQL_ERRORS.labels(code_of(wrapped) or "UNKNOWN").inc()
    return GraphQLError(wrapped.message, extensions=wrapped.extensions)


async def guarded(stream: AsyncIterator[T]) -> AsyncIterator[T]:
    """Re-raise a stream's exceptions as coded GraphQL errors."""
    try:
        async for item in stream:
            yield item
    except GraphQLError:
        raise
    except Exception as error:
        raise as_graphql_error(error) from None


class ErrorCodes(SchemaExtension):
    """Give every error of a result a code; mask the unexpected ones."""

    def on_operation(self) -> Iterator[None]:
        yield
        result = self.execution_context.result
        errors = getattr(result, "errors", None)
        if result is not None and errors:
            result.errors = code_all(errors)
