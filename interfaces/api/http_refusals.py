"""Malformed HTTP requests to /graphql: a 4xx with a coded GraphQL error, never a 500.

Strawberry answers request errors (bad JSON, wrong content type, batching) in
plain text without a code, and lets a body that is valid JSON but not an
object, nested beyond the interpreter's recursion limit or not UTF-8 escape
as a 500; a WebSocket message nested too deeply closed the socket as an internal
error. The mixin goes before strawberry's controller in the bases.
"""

from __future__ import annotations

import json
from typing import Any

from cross_web import HTTPException
from litestar import Response


def refusal(message: str, status_code: int) -> Response[Any]:
    """A request refused before execution, in the shape of a GraphQL error."""
    return Response(
        {"errors": [{"message": message, "extensions": {"code": "BAD_USER_INPUT"}}]},
        status_code=status_code,
    )


class NestsTooDeeply(json.JSONDecodeError):
    """JSON nested beyond the interpreter's recursion limit."""


class CodedHttpErrors:
    """Mixin for strawberry's Litestar GraphQL controller."""

    def decode_json(self, data: str | bytes) -> object:
        """Also used for WebSocket messages: a too-deep message is invalid JSON there
        (close 4400), not an internal error."""
        try:
            return json.loads(data)
        except RecursionError:
            raise NestsTooDeeply("The JSON nests too deeply", "", 0) from None

    def parse_json(self, data: str | bytes) -> Any:
        try:
            parsed = super().parse_json(data)  # type: ignore[misc]
        except HTTPException as error:
            if isinstance(error.__cause__, NestsTooDeeply):
                raise HTTPException(400, "The JSON nests too deeply") from None
            raise
        except UnicodeDecodeError:
            raise HTTPException(400, "The request body is not valid UTF-8") from None
        if not isinstance(parsed, dict | list):
            raise HTTPException(400, "Expected a JSON object")
        return parsed

    async def execute_request(self, request: Any, context: Any, root_value: Any) -> Any:
        try:
            return await self.run(request, context=context, root_value=root_value)  # type: ignore[attr-defined]
        except HTTPException as error:
            return refusal(error.reason, error.status_code)
