"""Subscriptions over both WebSocket protocols with the Python `gql` client:
events catch-up then live (no gap, no duplicate), resume with `after`, read-model
updates that agree with a query made on receipt, quote conflation, slow clients."""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections.abc import AsyncGenerator
from typing import Any

import pytest
import websockets
from gql import Client, gql
from gql.transport.websockets import WebsocketsTransport

from tests.e2e.server import Server, running_server

pytestmark = pytest.mark.e2e

PROTOCOLS = ["graphql-transport-ws", "graphql-ws"]
INGEST = "mutation($q: [QuoteInput!]!) { ingestQuotes(quotes: $q) { sequence } }"


def ingest(server: Server, instrument: str, last: str, count: int = 1) -> int:
    quotes = [{"instrument": instrument, "last": last}] * count
    return int(server.data(INGEST, {"q": quotes})["ingestQuotes"]["sequence"])


def write_in_background(server: Server, count: int, instrument: str = "BG") -> threading.Thread:
    def write() -> None:
        for i in range(count):
            ingest(server, instrument, str(100 + i))

    thread = threading.Thread(target=write)
    thread.start()
    return thread


async def subscribe(
    server: Server, protocol: str, query: str, variables: dict[str, Any] | None = None
) -> AsyncGenerator[dict[str, Any], None]:
    transport = WebsocketsTransport(url=server.ws, subprotocols=[protocol])
    async with Client(transport=transport) as session:
        request = gql(query)
        request.variable_values = variables
        async for result in session.subscribe(request):
            yield result


async def take_events(server: Server, protocol: str, after: int, until: int) -> list[int]:
    seen: list[int] = []
    query = "subscription($after: Int) { events(after: $after) { sequence type } }"
    async for result in subscribe(server, protocol, query, {"after": after}):
        seen.append(result["events"]["sequence"])
        if seen[-1] >= until:
            break
    return seen


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_events_catch_up_then_go_live_without_gap_or_duplicate(
    server: Server, protocol: str
) -> None:
    start = server.head()
    for i in range(30):
        ingest(server, "CU", str(i + 1))
    writer = write_in_background(server, 60)
    try:
        seen = asyncio.run(asyncio.wait_for(take_events(server, protocol, start, start + 90), 60))
    finally:
        writer.join()
    assert seen == list(range(start + 1, seen[-1] + 1))
    assert seen[-1] == server.head()


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_a_subscriber_resuming_with_after_loses_nothing(server: Server, protocol: str) -> None:
    start = server.head()
    for i in range(10):
        ingest(server, "RS", str(i + 1))
    first = asyncio.run(asyncio.wait_for(take_events(server, protocol, start, start + 5), 30))
    for i in range(10):
        ingest(server, "RS", str(i + 20))
    head = server.head()
    second = asyncio.run(asyncio.wait_for(take_events(server, protocol, first[-1], head), 30))
    assert first + second == list(range(start + 1, head + 1))


def test_events_filtered_by_type_and_aggregate(server: Server) -> None:
    start = server.head()
    placed = server.data(
        'mutation { placeOrder(input: {clientOrderId: "flt-1", instrument: "FLT", side: BUY, '
        'quantity: "1"}) { order { id } } }'
    )["placeOrder"]["order"]["id"]
    ingest(server, "FLT", "1")
    server.data(f'mutation {{ cancelOrder(id: "{placed}") {{ sequence }} }}')

    async def run() -> list[str]:
        types: list[str] = []
        query = """subscription($after: Int, $id: ID) {
            events(after: $after, types: ["OrderPlaced", "OrderCancelled"], aggregateId: $id) {
              type aggregateId } }"""
        async for result in subscribe(
            server, "graphql-transport-ws", query, {"after": start, "id": placed}
        ):
            assert result["events"]["aggregateId"] == placed
            types.append(result["events"]["type"])
            if len(types) == 2:
                break
        return types

    assert asyncio.run(asyncio.wait_for(run(), 30)) == ["OrderPlaced", "OrderCancelled"]


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_position_updates_agree_with_a_query_made_on_receipt(server: Server, protocol: str) -> None:
    instrument = f"PU{protocol.count('-')}"

    async def run() -> tuple[dict[str, Any], dict[str, Any]]:
        query = """subscription($i: String) { positionUpdates(instrument: $i) {
            instrument quantity averagePrice realizedPnl asOf } }"""
        updates = subscribe(server, protocol, query, {"i": instrument})
        first = asyncio.ensure_future(updates.__anext__())
        await asyncio.sleep(0.5)
        await asyncio.to_thread(_buy_and_fill, server, instrument)
        pushed = (await first)["positionUpdates"]
        read = await asyncio.to_thread(
            server.data,
            "query($i: String!) { position(instrument: $i) { instrument quantity averagePrice "
            "realizedPnl asOf } }",
            {"i": instrument},
        )
        await updates.aclose()
        return pushed, read["position"]

    pushed, read = asyncio.run(asyncio.wait_for(run(), 30))
    assert pushed["quantity"] == "5"
    assert read == pushed


def _buy_and_fill(server: Server, instrument: str) -> None:
    order = server.data(
        "mutation($i: String!, $c: String!) { placeOrder(input: {clientOrderId: $c, "
        'instrument: $i, side: BUY, quantity: "5"}) { order { id } } }',
        {"i": instrument, "c": f"pu-{instrument}"},
    )["placeOrder"]["order"]["id"]
    server.data(
        "mutation($o: ID!, $f: String!) { recordFill(input: {orderId: $o, fillId: $f, "
        'quantity: "5", price: "10"}) { sequence } }',
        {"o": order, "f": f"pu-fill-{instrument}"},
    )


def test_order_and_signal_updates_follow_their_read_models(server: Server) -> None:
    async def run() -> tuple[list[str], list[str]]:
        orders = subscribe(
            server, "graphql-ws", 'subscription { orderUpdates(instrument: "OU") { status } }'
        )
        signals = subscribe(
            server,
            "graphql-transport-ws",
            'subscription { signalUpdates(instrument: "OU") { status } }',
        )
        next_order = asyncio.ensure_future(orders.__anext__())
        next_signal = asyncio.ensure_future(signals.__anext__())
        await asyncio.sleep(0.5)
        await asyncio.to_thread(
            server.data,
            'mutation { generateSignal(input: {strategy: "s", instrument: "OU", side: SELL, '
            'strength: "0.5"}) { sequence } }',
        )
        await asyncio.to_thread(
            server.data,
            'mutation { placeOrder(input: {clientOrderId: "ou-1", instrument: "OU", side: SELL, '
            'quantity: "1"}) { sequence } }',
        )
        order = (await next_order)["orderUpdates"]["status"]
        signal = (await next_signal)["signalUpdates"]["status"]
        await orders.aclose()
        await signals.aclose()
        return [order], [signal]

    assert asyncio.run(asyncio.wait_for(run(), 30)) == (["SUBMITTED"], ["PENDING"])


def test_quotes_are_conflated_per_instrument_latest_wins(server: Server) -> None:
    window_ms = 400

    async def run() -> list[tuple[float, str, str]]:
        received: list[tuple[float, str, str]] = []
        query = """subscription($t: Int!) {
            quotes(instruments: ["CQA", "CQB"], throttleMs: $t) { instrument last } }"""
        stream = subscribe(server, "graphql-transport-ws", query, {"t": window_ms})
        pending = asyncio.ensure_future(stream.__anext__())
        await asyncio.sleep(0.5)

        def burst() -> None:
            for i in range(1, 41):
                ingest(server, "CQA", str(i))
                ingest(server, "CQB", str(1000 + i))
                time.sleep(0.02)

        writer = asyncio.create_task(asyncio.to_thread(burst))
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                result = await asyncio.wait_for(pending, 1.5)
            except TimeoutError:
                if writer.done():
                    break
                pending = asyncio.ensure_future(stream.__anext__())
                continue
            quote = result["quotes"]
            received.append((time.monotonic(), quote["instrument"], quote["last"]))
            pending = asyncio.ensure_future(stream.__anext__())
        pending.cancel()
        await writer
        await stream.aclose()
        return received

    received = asyncio.run(asyncio.wait_for(run(), 40))
    for instrument, last in (("CQA", "40"), ("CQB", "1040")):
        mine = [r for r in received if r[1] == instrument]
        assert mine and mine[-1][2] == last, mine
        assert len(mine) < 40, "quotes were not conflated"
        gaps = [b[0] - a[0] for a, b in zip(mine, mine[1:], strict=False)]
        assert all(gap >= window_ms / 1000 * 0.8 for gap in gaps), gaps


def test_a_subscriber_that_falls_behind_is_closed_with_a_clear_error(tmp_path) -> None:
    # A one-event buffer: a fill commits several events at once, more than it holds.
    with running_server(tmp_path, subscription_buffer_size="1") as server:

        async def run() -> dict[str, Any]:
            async with websockets.connect(
                server.ws,
                subprotocols=["graphql-transport-ws"],  # type: ignore[list-item]
            ) as socket:
                await socket.send(json.dumps({"type": "connection_init", "payload": {}}))
                assert json.loads(await socket.recv())["type"] == "connection_ack"
                await socket.send(
                    json.dumps(
                        {
                            "id": "1",
                            "type": "subscribe",
                            "payload": {"query": "subscription { events { sequence } }"},
                        }
                    )
                )
                await asyncio.sleep(0.3)
                await asyncio.to_thread(_fills, server)
                while True:
                    message = json.loads(await asyncio.wait_for(socket.recv(), 20))
                    if message["type"] == "error" or message.get("payload", {}).get("errors"):
                        return message

        message = asyncio.run(asyncio.wait_for(run(), 60))
        errors = message["payload"] if message["type"] == "error" else message["payload"]["errors"]
        assert errors[0]["extensions"]["code"] == "UNAVAILABLE"
        assert "resubscribe with after" in errors[0]["message"]
        # The server and its other clients carry on.
        assert "errors" not in server.post("{ systemStatus { headSequence } }")


def _fills(server: Server) -> None:
    for i in range(5):
        order = server.data(
            'mutation($c: String!) { placeOrder(input: {clientOrderId: $c, instrument: "SLOW", '
            'side: BUY, quantity: "1"}) { order { id } } }',
            {"c": f"slow-{i}"},
        )["placeOrder"]["order"]["id"]
        server.data(
            "mutation($o: ID!, $f: String!) { recordFill(input: {orderId: $o, fillId: $f, "
            'quantity: "1", price: "10"}) { sequence } }',
            {"o": order, "f": f"slow-fill-{i}"},
        )
