"""A WebSocket whose client stops reading is closed, not kept.

When a client stops reading, its socket's buffers fill and every send to it waits
(uvicorn's flow control) for as long as the client stays: its subscription tasks,
their queued payloads and the connection with them. Each send gets
`ws_send_timeout_seconds`; past it the connection is aborted (the kernel buffers
are dropped at once: a graceful close would wait for them to drain) and the
application sees the client as gone, so its tasks end and their memory returns.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from litestar.exceptions import WebSocketDisconnect

from infrastructure.logging import get_logger
from infrastructure.metrics import SUBSCRIBERS_CLOSED_SLOW

ASGIApp = Callable[..., Any]
log = get_logger("tradestate.api")


def send_timeout(seconds: float) -> Callable[[ASGIApp], ASGIApp]:
    """ASGI middleware bounding each WebSocket send to `seconds`: the outermost
    layer, so the `send` it wraps is the server's own."""

    def middleware(app: ASGIApp) -> ASGIApp:
        async def bounded(scope: Any, receive: Any, send: Any) -> None:
            if scope["type"] != "websocket":
                await app(scope, receive, send)
                return

            async def send_or_drop(message: Any) -> None:
                # asyncio.timeout, not wait_for: on Python 3.11, wait_for swallows a
                # cancellation that lands as its send completes, and a stopped
                # subscription's task would then run on (and its `stop` hang).
                try:
                    async with asyncio.timeout(seconds):
                        await send(message)
                except TimeoutError:
                    _abort(send)
                    SUBSCRIBERS_CLOSED_SLOW.labels("websocket").inc()
                    log.info("websocket closed: its client read nothing", seconds=seconds)
                    raise WebSocketDisconnect(
                        detail=f"the client read nothing for {seconds:g} s", code=1011
                    ) from None

            await app(scope, receive, send_or_drop)

        return bounded

    return middleware


def _abort(send: Any) -> None:
    """Drop the connection now. The server's `send` is bound to its protocol
    object, which holds the transport (uvicorn); elsewhere, the app's own close
    path is all there is."""
    transport = getattr(getattr(send, "__self__", None), "transport", None)
    if transport is not None:
        transport.abort()
