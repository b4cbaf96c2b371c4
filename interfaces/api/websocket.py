"""The two WebSocket protocols, with subscriptions run by `sharing.Executions`.

strawberry's handlers keep the protocol (handshake, ping/pong and keep-alive,
ids, limits, errors before execution); only a subscription's run is replaced:
its messages come from a (possibly shared) execution as encoded payloads, and
each handler adds its own framing:

- graphql-transport-ws: `{"id": ..., "type": "next", "payload": ...}`, `error`, `complete`
- graphql-ws (legacy):   `{"type": "data", "id": ..., "payload": ...}`, `error`, `complete`
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

import orjson
import structlog
from litestar.exceptions import WebSocketDisconnect
from strawberry.http.exceptions import WebSocketDisconnected
from strawberry.subscriptions.protocols.graphql_transport_ws.handlers import (
    BaseGraphQLTransportWSHandler,
    Operation,
)
from strawberry.subscriptions.protocols.graphql_ws.handlers import BaseGraphQLWSHandler
from uvicorn.protocols.utils import ClientDisconnected

from interfaces.api.sharing import ERROR, Executions, plan

log = structlog.get_logger("tradestate.api")
#: A send to a client that has gone: its own doing, not a fault of the server's.
_GONE = (ClientDisconnected, WebSocketDisconnect, WebSocketDisconnected)


def _client_went_away(error: BaseException | None) -> bool:
    """Whether `error`, or an exception it was raised from, says the client is gone."""
    for _ in range(8):
        if error is None:
            return False
        if isinstance(error, _GONE):
            return True
        error = error.__cause__ or error.__context__
    return False


async def _send_text(handler: Any, text: str) -> None:
    try:
        await handler.websocket.ws.send_data(data=text)
    except WebSocketDisconnect as error:
        raise WebSocketDisconnected from error


def handler_classes(executions: Executions) -> tuple[type[Any], type[Any]]:
    """Handler classes for strawberry's view, bound to the process's executions."""

    class TransportWSHandler(BaseGraphQLTransportWSHandler[Any, Any]):
        async def handle_task_exception(self, error: Exception) -> None:
            """A client that closes while its operation's last message (`complete`,
            an error) is sent is logged at info: strawberry logs any failure of an
            operation's task as a server error, with a traceback."""
            if _client_went_away(error):
                log.info("subscription client went away", error=type(error).__name__)
                return
            await super().handle_task_exception(error)

        async def run_operation(self, operation: Operation[Any, Any]) -> None:
            how = plan(operation.query, operation.variables, operation.operation_name)
            if how is None:
                await super().run_operation(operation)
                return

            def source() -> Any:
                return self.schema.subscribe(
                    operation.query,
                    variable_values=operation.variables,
                    context_value=self.context,
                    root_value=self.root_value,
                    operation_name=operation.operation_name,
                )

            head = '{"id":' + orjson.dumps(operation.id).decode() + ',"type":"next","payload":'
            try:
                async for kind, payload in executions.run(how, source):
                    if operation.completed:
                        return
                    if kind == ERROR:
                        await operation.send_operation_message(
                            {"id": operation.id, "type": "error", "payload": payload}
                        )
                        return
                    await _send_text(self, head + payload + "}")
                await operation.send_operation_message({"id": operation.id, "type": "complete"})
            except WebSocketDisconnected:
                self.operations.pop(operation.id, None)

    class LegacyWSHandler(BaseGraphQLWSHandler[Any, Any]):
        async def handle_async_results(
            self,
            operation_id: str,
            query: str,
            operation_name: str | None,
            variables: dict[str, object] | None,
        ) -> None:
            how = plan(query, variables, operation_name)
            if how is None:
                await super().handle_async_results(operation_id, query, operation_name, variables)
                return

            def source() -> Any:
                return self.schema.subscribe(
                    query=query,
                    variable_values=variables,
                    operation_name=operation_name,
                    context_value=self.context,
                    root_value=self.root_value,
                )

            head = '{"type":"data","id":' + orjson.dumps(operation_id).decode() + ',"payload":'
            try:
                async for kind, payload in executions.run(how, source):
                    if kind == ERROR:
                        await self.send_message(
                            {"type": "error", "id": operation_id, "payload": payload[0]}
                        )
                        return
                    await _send_text(self, head + payload + "}")
                await self.send_message({"type": "complete", "id": operation_id})
            except asyncio.CancelledError:
                with contextlib.suppress(Exception):
                    await self.send_message({"type": "complete", "id": operation_id})
            except WebSocketDisconnected:
                pass
            finally:
                self.tasks.pop(operation_id, None)

    return TransportWSHandler, LegacyWSHandler
