"""A subscription stopped as its last send completes stops (interfaces/api/ws_send_timeout.py).

CI once hung a graphql-ws client's close for 10 s: the client's `stop` cancelled the
operation's task just as a send finished; `asyncio.wait_for` (Python 3.11) returned
the send's result and swallowed the cancellation, so the task waited on for the next
event, and strawberry's `stop`, which awaits the task, held the connection's message
loop. The send's bound must let a cancellation through whatever the timing."""

from __future__ import annotations

import asyncio

import pytest

from interfaces.api.ws_send_timeout import send_timeout


async def _cancel_as_the_send_completes() -> list[str]:
    sent = asyncio.get_running_loop().create_future()
    reached: list[str] = []

    async def server_send(message: object) -> None:
        await sent

    async def app(scope: object, receive: object, send) -> None:
        await send({"type": "websocket.send", "text": "data"})
        reached.append("after the send")
        await asyncio.sleep(3600)

    task = asyncio.create_task(send_timeout(5)(app)({"type": "websocket"}, None, server_send))
    await asyncio.sleep(0)  # the app waits in its send
    sent.set_result(None)  # the send completes ...
    task.cancel()  # ... in the same turn as the stop's cancellation
    with pytest.raises(asyncio.CancelledError):
        await asyncio.wait_for(task, 2)
    return reached


def test_a_cancellation_landing_as_a_send_completes_is_not_swallowed() -> None:
    assert asyncio.run(_cancel_as_the_send_completes()) == []


def test_a_send_past_its_bound_still_drops_the_client() -> None:
    from litestar.exceptions import WebSocketDisconnect

    async def server_send(message: object) -> None:
        await asyncio.sleep(3600)

    async def app(scope: object, receive: object, send) -> None:
        await send({"type": "websocket.send", "text": "data"})

    with pytest.raises(WebSocketDisconnect):
        asyncio.run(send_timeout(0.05)(app)({"type": "websocket"}, None, server_send))
