"""`tradestate watch`: a graphql-transport-ws client printing live events as JSON lines.

It resumes where it stopped: after a dropped connection (or a server that
closed an overflowing subscriber) it reconnects with backoff and subscribes
again with `after` = the last sequence it printed, skipping any duplicate.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import random
import sys
from collections.abc import AsyncIterator, Callable, Sequence
from typing import Annotated, Any

import typer
import websockets
from websockets.asyncio.client import ClientConnection, connect

from infrastructure.logging import configure_logging
from interfaces.cli.options import ConfigOption, fail, settings_from

PROTOCOL = "graphql-transport-ws"
QUERY = (
    "subscription($after:Int,$types:[String!]){ events(after:$after, types:$types)"
    "{ sequence type aggregateId aggregateVersion timestamp data } }"
)
# Close codes of graphql-transport-ws that retrying cannot cure.
FATAL_CLOSE_CODES = {4400: "bad request", 4401: "unauthorized", 4403: "forbidden",
                     4406: "subprotocol not acceptable"}  # fmt: skip
# GraphQL error codes worth resubscribing after (an overflowed subscriber is UNAVAILABLE).
RETRYABLE_CODES = {"UNAVAILABLE", "INTERNAL_SERVER_ERROR"}
HANDSHAKE_TIMEOUT = 10.0


class Fatal(Exception):
    """A refusal that reconnecting would only repeat (auth, a bad request)."""


class Retry(Exception):
    """The server ended the subscription in a way a resubscription cures."""


def _errors(errors: Any) -> Exception:
    items = errors if isinstance(errors, list) else [errors]
    codes = {(e.get("extensions") or {}).get("code") for e in items if isinstance(e, dict)}
    message = "; ".join(str(e.get("message", e)) if isinstance(e, dict) else str(e) for e in items)
    return Retry(message) if codes & RETRYABLE_CODES else Fatal(message)


async def _handshake(ws: ClientConnection, token: str | None) -> None:
    payload = {"authorization": f"Bearer {token}"} if token else {}
    await ws.send(json.dumps({"type": "connection_init", "payload": payload}))
    while True:
        message = json.loads(await asyncio.wait_for(ws.recv(), HANDSHAKE_TIMEOUT))
        if message.get("type") == "connection_ack":
            return
        if message.get("type") == "ping":
            await ws.send(json.dumps({"type": "pong"}))


async def subscribe(
    url: str, token: str | None, after: int, types: Sequence[str]
) -> AsyncIterator[dict[str, Any]]:
    """The `events` a subscription delivers, until the server completes it."""
    headers = {"Authorization": f"Bearer {token}"} if token else None
    async with connect(url, subprotocols=[PROTOCOL], additional_headers=headers) as ws:  # type: ignore[list-item]
        await _handshake(ws, token)
        variables = {"after": after, "types": list(types) or None}
        payload: dict[str, Any] = {"query": QUERY, "variables": variables}
        await ws.send(json.dumps({"id": "1", "type": "subscribe", "payload": payload}))
        async for raw in ws:
            message = json.loads(raw)
            kind = message.get("type")
            if kind == "ping":
                # A closed socket may still hold events received before the close: drain them.
                with contextlib.suppress(websockets.ConnectionClosed):
                    await ws.send(json.dumps({"type": "pong"}))
            elif kind == "next":
                payload = message.get("payload") or {}
                if payload.get("errors"):
                    raise _errors(payload["errors"])
                event = (payload.get("data") or {}).get("events")
                if event is not None:
                    yield event
            elif kind == "error":
                raise _errors(message.get("payload"))
            elif kind == "complete":
                return


def _fatal_cause(error: Exception) -> str | None:
    closed = error.rcvd if isinstance(error, websockets.ConnectionClosed) else None
    if closed is not None and closed.code in FATAL_CLOSE_CODES:
        reason = closed.reason or FATAL_CLOSE_CODES[closed.code]
        return f"the server closed the connection: {closed.code} {reason}"
    if isinstance(error, websockets.InvalidStatus):
        status = error.response.status_code
        if status in (400, 401, 403, 404):
            return f"the server refused the WebSocket handshake with HTTP {status}"
    return None


async def follow(
    url: str,
    token: str | None,
    after: int,
    types: Sequence[str],
    emit: Callable[[dict[str, Any]], None],
    *,
    retries: int | None = None,
    count: int | None = None,
    backoff: tuple[float, float] = (0.5, 30.0),
    say: Callable[[str], None] = lambda text: print(text, file=sys.stderr, flush=True),
) -> int:
    """Emit every event after `after` in order, reconnecting and resuming as needed;
    returns the last sequence emitted. Raises Fatal when retrying cannot help, or
    after `retries` consecutive failed attempts."""
    last, failures, emitted = after, 0, 0
    while True:
        try:
            async for event in subscribe(url, token, last, types):
                if event["sequence"] <= last:
                    continue
                emit(event)
                last, failures, emitted = event["sequence"], 0, emitted + 1
                if count is not None and emitted >= count:
                    return last
            why = "the server completed the subscription"
        except Fatal:
            raise
        except (OSError, TimeoutError, websockets.WebSocketException, Retry) as error:
            fatal = _fatal_cause(error)
            if fatal is not None:
                raise Fatal(fatal) from error
            why = f"{type(error).__name__}: {error}"
        failures += 1
        if retries is not None and failures > retries:
            raise Fatal(f"gave up after {retries} retries; last: {why}")
        delay = min(backoff[1], backoff[0] * 2 ** (failures - 1)) * random.uniform(0.8, 1.2)
        say(f"watch: connection lost ({why}); resuming after {last} in {delay:.1f}s")
        await asyncio.sleep(delay)


def watch(
    url: Annotated[
        str | None,
        typer.Option("--url", help="GraphQL WebSocket URL (default ws://HOST:PORT/graphql)."),
    ] = None,
    token: Annotated[
        str | None, typer.Option("--token", help="Bearer token (default: the reader token).")
    ] = None,
    after: Annotated[int, typer.Option("--after", min=0, help="Start after sequence N.")] = 0,
    types: Annotated[
        list[str] | None, typer.Option("--types", help="Only these event types (repeatable).")
    ] = None,
    retries: Annotated[
        int | None, typer.Option("--retries", min=0, help="Give up after N failed reconnects.")
    ] = None,
    count: Annotated[
        int | None, typer.Option("--count", min=1, help="Exit after printing N events.")
    ] = None,
    config: ConfigOption = None,
) -> None:
    """Print live events as JSON lines (a GraphQL subscription client).

    Reconnects with backoff when the connection drops and resumes after the
    last printed sequence, so nothing is lost or printed twice."""
    settings = settings_from(None, config)
    configure_logging(settings)
    url = url or f"ws://{settings.host}:{settings.port}/graphql"
    if token is None and settings.reader_token is not None:
        token = settings.reader_token.get_secret_value()
    wanted = [name for given in types or [] for name in given.split(",") if name]

    def emit(event: dict[str, Any]) -> None:
        sys.stdout.write(json.dumps(event, separators=(",", ":")) + "\n")
        sys.stdout.flush()

    try:
        asyncio.run(follow(url, token, after, wanted, emit, retries=retries, count=count))
    except Fatal as error:
        fail(str(error))
    except KeyboardInterrupt:
        raise typer.Exit(130) from None
