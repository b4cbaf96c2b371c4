"""Bearer tokens: readers query and subscribe, traders also mutate; no token, no
service; cross-origin WebSocket handshakes refused; no tokens, loopback only."""

from __future__ import annotations

import asyncio
import subprocess
from typing import Any

import httpx
import pytest
import websockets
from gql import Client, gql
from gql.transport.exceptions import TransportError, TransportQueryError
from gql.transport.websockets import WebsocketsTransport
from websockets.typing import Origin, Subprotocol

from tests.e2e.conftest import READER, TRADER
from tests.e2e.server import ROOT, Server, environment, serve_command

pytestmark = pytest.mark.e2e

MUTATION = 'mutation { ingestQuotes(quotes: [{instrument: "AUTH", last: "1"}]) { sequence } }'
QUERY = "{ positions { id } }"
PROTOCOLS = ["graphql-transport-ws", "graphql-ws"]


def call(server: Server, query: str, token: str | None) -> dict:
    headers = {"authorization": f"Bearer {token}"} if token else {}
    return server.post(query, headers=headers)


def codes(body: dict) -> list[str]:
    return [e["extensions"]["code"] for e in body.get("errors", [])]


def test_without_a_token_queries_and_mutations_are_unauthenticated(guarded: Server) -> None:
    assert codes(call(guarded, QUERY, None)) == ["UNAUTHENTICATED"]
    assert codes(call(guarded, MUTATION, None)) == ["UNAUTHENTICATED"]
    assert codes(call(guarded, QUERY, "wrong-token")) == ["UNAUTHENTICATED"]


def test_a_reader_queries_but_may_not_mutate(guarded: Server) -> None:
    before = call(guarded, "{ systemStatus { headSequence } }", READER)
    assert codes(call(guarded, QUERY, READER)) == []
    assert codes(call(guarded, MUTATION, READER)) == ["FORBIDDEN"]
    after = call(guarded, "{ systemStatus { headSequence } }", READER)
    assert before["data"] == after["data"]


def test_a_trader_mutates(guarded: Server) -> None:
    assert codes(call(guarded, MUTATION, TRADER)) == []


async def _first_event(url: str, protocol: str, **transport: Any) -> dict:
    client = Client(transport=WebsocketsTransport(url=url, subprotocols=[protocol], **transport))
    async with client as session:
        async for result in session.subscribe(
            gql("subscription { events(after: 0) { sequence } }")
        ):
            return result
    raise AssertionError("no event")


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_subscriptions_without_a_token_are_refused(guarded: Server, protocol: str) -> None:
    call(guarded, MUTATION, TRADER)
    with pytest.raises((TransportError, TransportQueryError, websockets.ConnectionClosed)):
        asyncio.run(asyncio.wait_for(_first_event(guarded.ws, protocol), 10))


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_subscriptions_take_the_token_from_init_payload_or_header(
    guarded: Server, protocol: str
) -> None:
    call(guarded, MUTATION, TRADER)
    by_payload = asyncio.run(
        asyncio.wait_for(
            _first_event(guarded.ws, protocol, init_payload={"authorization": f"Bearer {READER}"}),
            10,
        )
    )
    by_header = asyncio.run(
        asyncio.wait_for(
            _first_event(guarded.ws, protocol, headers={"Authorization": f"Bearer {READER}"}), 10
        )
    )
    assert by_payload["events"]["sequence"] == by_header["events"]["sequence"] == 1


def test_cross_origin_websocket_handshakes_are_refused_unless_allowed(guarded: Server) -> None:
    async def handshake(origin: str) -> None:
        async with websockets.connect(
            guarded.ws,
            subprotocols=[Subprotocol("graphql-transport-ws")],
            origin=Origin(origin),
        ):
            pass

    with pytest.raises(websockets.InvalidStatus) as refused:
        asyncio.run(handshake("http://evil.example"))
    assert refused.value.response.status_code == 403
    asyncio.run(handshake("http://allowed.example"))


def test_without_tokens_serving_off_loopback_is_refused(tmp_path) -> None:
    result = subprocess.run(
        [*serve_command("--host", "0.0.0.0", "--port", "1", "--db", f"sqlite:///{tmp_path}/x.db")],
        cwd=ROOT,
        env=environment(),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode != 0
    assert "refusing to serve on 0.0.0.0 without tokens" in result.stderr


def test_without_tokens_the_server_says_it_serves_loopback_only(server: Server) -> None:
    assert "loopback" in server.log.read_text()


def test_tokens_never_reach_the_log(guarded: Server) -> None:
    call(guarded, MUTATION, TRADER)
    call(guarded, QUERY, "wrong-token")
    httpx.get(f"{guarded.http}/health")
    text = guarded.log.read_text()
    assert TRADER not in text and READER not in text and "wrong-token" not in text
