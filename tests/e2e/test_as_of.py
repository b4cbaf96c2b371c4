"""The same object carries the same `asOf` wherever it is served (issue 13, item 9):
a mutation's payload, a query of its read model, a subscription's message."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest
import websockets

from tests.e2e.server import Server

pytestmark = pytest.mark.e2e

PLACE = """mutation($input: OrderInput!) {
  placeOrder(input: $input) { order { id asOf } sequence } }"""
FILL = """mutation($input: FillInput!) {
  recordFill(input: $input) { order { asOf } position { id asOf } sequence } }"""
ARM = """mutation($input: MonitorInput!) {
  armMonitor(input: $input) { monitor { id asOf } sequence } }"""
SIGNAL = """mutation($input: SignalInput!) { generateSignal(input: $input) { signal { id } } }"""
ACCEPT = """mutation($id: ID!) { acceptSignal(id: $id) { signal { id asOf orderId } sequence } }"""


def read_order(server: Server, order_id: str, at: int) -> dict[str, Any]:
    query = "query($id: ID!, $n: Int) { order(id: $id, minSequence: $n) { asOf } }"
    return server.data(query, {"id": order_id, "n": at})["order"]


def read_position(server: Server, instrument: str, at: int) -> dict[str, Any]:
    query = "query($i: String!, $n: Int) { position(instrument: $i, minSequence: $n) { asOf } }"
    return server.data(query, {"i": instrument, "n": at})["position"]


def place(server: Server, client_order_id: str, instrument: str, quantity: str) -> dict:
    order = {"clientOrderId": client_order_id, "instrument": instrument, "side": "BUY"}
    return server.data(PLACE, {"input": {**order, "quantity": quantity}})["placeOrder"]


def test_a_fill_answers_the_as_of_its_order_and_position_are_read_with(server: Server) -> None:
    order_id = place(server, "asof-1", "ASOF", "10")["order"]["id"]
    fill = {"orderId": order_id, "fillId": "asof-f1", "quantity": "4", "price": "10"}

    async def position_update() -> dict[str, Any]:
        async with websockets.connect(server.ws, subprotocols=["graphql-transport-ws"]) as socket:  # type: ignore[list-item]
            await socket.send(json.dumps({"type": "connection_init", "payload": {}}))
            assert json.loads(await socket.recv())["type"] == "connection_ack"
            query = 'subscription { positionUpdates(instrument: "ASOF") { asOf quantity } }'
            await socket.send(
                json.dumps({"id": "p", "type": "subscribe", "payload": {"query": query}})
            )
            await asyncio.sleep(0.5)
            answer = asyncio.create_task(asyncio.to_thread(server.data, FILL, {"input": fill}))
            while True:
                message = json.loads(await asyncio.wait_for(socket.recv(), 20))
                if message["type"] == "next":
                    await answer
                    return {
                        "message": message["payload"]["data"]["positionUpdates"],
                        "answer": answer.result(),
                    }

    seen = asyncio.run(position_update())
    filled = seen["answer"]["recordFill"]
    at = filled["sequence"]
    assert filled["position"]["asOf"] == read_position(server, "ASOF", at)["asOf"]
    assert filled["position"]["asOf"] == seen["message"]["asOf"]
    assert filled["order"]["asOf"] == read_order(server, order_id, at)["asOf"]
    # The payload's last sequence is the command's; the objects' are their own events'.
    assert filled["position"]["asOf"] < at or filled["order"]["asOf"] < at

    replay = server.data(FILL, {"input": fill})["recordFill"]
    assert replay["position"]["asOf"] == filled["position"]["asOf"]
    assert replay["order"]["asOf"] == filled["order"]["asOf"]


def test_arming_a_monitor_answers_the_monitor_s_own_as_of(server: Server) -> None:
    order_id = place(server, "asof-2", "ASOM", "5")["order"]["id"]
    fill = {"orderId": order_id, "fillId": "asof-f2", "quantity": "5", "price": "20"}
    server.data(FILL, {"input": fill})
    armed = server.data(ARM, {"input": {"instrument": "ASOM", "stopLoss": "10"}})["armMonitor"]
    query = "query($n: Int) { monitors(minSequence: $n) { id asOf } }"
    rows = server.data(query, {"n": armed["sequence"]})["monitors"]
    row = next(r for r in rows if r["id"] == armed["monitor"]["id"])
    assert armed["monitor"]["asOf"] == row["asOf"]
    # The position's MonitorAttached changes no row: its asOf stays at its fill.
    after_fill = read_position(server, "ASOM", armed["sequence"])
    again = server.data(FILL, {"input": fill})["recordFill"]
    assert again["position"]["asOf"] == after_fill["asOf"]


def test_accepting_a_signal_answers_the_signal_s_own_as_of(server: Server) -> None:
    signal = {"strategy": "s", "instrument": "ASOS", "side": "BUY", "strength": "0.9"}
    signal_id = server.data(SIGNAL, {"input": signal})["generateSignal"]["signal"]["id"]
    accepted = server.data(ACCEPT, {"id": signal_id})["acceptSignal"]
    query = "query($id: ID!, $n: Int) { signal(id: $id, minSequence: $n) { asOf } }"
    row = server.data(query, {"id": signal_id, "n": accepted["sequence"]})["signal"]
    assert accepted["signal"]["asOf"] == row["asOf"]


def test_a_replayed_order_answers_its_own_as_of_not_the_head(server: Server) -> None:
    first = place(server, "asof-3", "ASOR", "1")
    place(server, "asof-other", "ASOR", "2")  # the head moves on
    again = place(server, "asof-3", "ASOR", "1")
    assert again["order"]["asOf"] == first["order"]["asOf"]
    assert (
        again["order"]["asOf"]
        == read_order(server, first["order"]["id"], again["sequence"])["asOf"]
    )
