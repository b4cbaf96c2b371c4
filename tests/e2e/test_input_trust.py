"""Inputs under attack (issue 13, items 5-8 and 10), against a real server with tokens:
whole-value symbols, plain ASCII decimals, numeric ranges refused with the range really
allowed, idempotency keys that conflict on different terms, and the same coded refusals
on HTTP and on both WebSocket protocols, logged without a trace."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import websockets

from tests.e2e.conftest import READER, TRADER
from tests.e2e.server import Server, running_server

pytestmark = pytest.mark.e2e

PLACE = """mutation($input: OrderInput!) {
  placeOrder(input: $input) { order { id instrument account } sequence } }"""
FILL = """mutation($input: FillInput!) {
  recordFill(input: $input) { trade { fillId quantity price } sequence } }"""
INGEST = "mutation($q: [QuoteInput!]!) { ingestQuotes(quotes: $q) { accepted sequence } }"
ORDER_ID = "12345678-1234-5678-1234-567812345678"


@pytest.fixture(scope="module")
def trusted(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """A server with both tokens; its client carries the trader token."""
    with running_server(
        tmp_path_factory.mktemp("trust"), token=TRADER, reader_token=READER, trader_token=TRADER
    ) as started:
        yield started


def refusal(server: Server, query: str, variables: dict[str, Any] | None = None) -> dict:
    """The one error of a refused request, after checking it appended nothing."""
    before = server.head()
    body = server.post(query, variables)
    assert len(body.get("errors", [])) == 1, body
    assert server.head() == before
    return body["errors"][0]


def order_input(**changes: Any) -> dict[str, Any]:
    return {"clientOrderId": "c-1", "instrument": "ACME", "side": "BUY", "quantity": "5", **changes}


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("instrument", "AAPL\n"),
        ("account", "default\n"),
        ("instrument", "AAPL\r\n"),
        ("instrument", "ＡＡＰＬ"),
    ],
)
def test_a_symbol_with_a_trailing_newline_is_refused(
    trusted: Server, field: str, value: str
) -> None:
    error = refusal(
        trusted, PLACE, {"input": order_input(clientOrderId=f"nl-{field}", **{field: value})}
    )
    assert error["extensions"] == {"code": "BAD_USER_INPUT", "field": field}


@pytest.mark.parametrize(
    "value",
    ["５", "٥", "1_000", " 5 ", "5 ", "\t5", "1e3", "0x10", "+", ".", "1" * 19, "0." + "1" * 19],
)
def test_the_decimal_scalar_takes_only_plain_ascii_decimals_within_the_digit_limits(
    trusted: Server, value: str
) -> None:
    error = refusal(trusted, INGEST, {"q": [{"instrument": "DEC", "last": value}]})
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    assert len(error["message"]) < 200


def test_plain_decimals_at_the_limits_are_accepted(trusted: Server) -> None:
    values = ["5", "0.5", ".5", "5.", "+5", "1" * 18 + "." + "1" * 18, "0001"]
    quotes = [{"instrument": "DEC", "last": value} for value in values]
    assert trusted.data(INGEST, {"q": quotes})["ingestQuotes"]["accepted"] == len(values)


@pytest.mark.parametrize(
    ("query", "field", "allowed"),
    [
        ("{ events(after: -5) { headSequence } }", "after", ">= 0"),
        ("{ events(limit: 0) { headSequence } }", "limit", "1..1000"),
        ("{ events(limit: 1001) { headSequence } }", "limit", "1..1000"),
        ("{ orders(limit: -1) { id } }", "limit", "1..1000"),
        ("{ positions(minSequence: -1) { id } }", "minSequence", ">= 0"),
    ],
)
def test_numeric_arguments_out_of_range_are_refused_naming_the_range(
    trusted: Server, query: str, field: str, allowed: str
) -> None:
    error = refusal(trusted, query)
    assert error["extensions"] == {"code": "BAD_USER_INPUT", "field": field}
    assert allowed in error["message"]


def test_a_replayed_fill_id_is_idempotent_only_with_the_same_terms(trusted: Server) -> None:
    placed = trusted.data(PLACE, {"input": order_input(clientOrderId="replay-1", quantity="10")})
    order_id = placed["placeOrder"]["order"]["id"]
    terms = {"orderId": order_id, "fillId": "fx-1", "quantity": "2", "price": "100"}
    first = trusted.data(FILL, {"input": terms})["recordFill"]
    head = trusted.head()
    again = trusted.data(FILL, {"input": {**terms, "quantity": "2.0"}})["recordFill"]
    assert again["trade"] == first["trade"]
    assert trusted.head() == head
    for change in ({"quantity": "3"}, {"price": "101"}, {"commission": "1"}):
        error = refusal(trusted, FILL, {"input": {**terms, **change}})
        assert error["extensions"] == {"code": "CONFLICT", "field": "fillId"}, change
    later = {**terms, "timestamp": "2020-01-01T00:00:00Z"}
    assert refusal(trusted, FILL, {"input": later})["extensions"]["code"] == "CONFLICT"


WS_REFUSALS = [
    ('subscription { events(types: ["Nope"]) { sequence } }', "BAD_USER_INPUT"),
    ('subscription { events(aggregateId: "not-a-uuid") { sequence } }', "BAD_USER_INPUT"),
    ("subscription { quotes(throttleMs: -1) { instrument } }", "BAD_USER_INPUT"),
    ("subscription { quotes(throttleMs: 60001) { instrument } }", "BAD_USER_INPUT"),
    ("subscription { events(after: -5) { sequence } }", "BAD_USER_INPUT"),
    ("subscription { nope }", "BAD_USER_INPUT"),
    ('mutation { cancelOrder(id: "x") { sequence } }', None),
]


async def ws_answer(
    server: Server, protocol: str, payload: dict[str, Any], token: str = READER
) -> dict[str, Any]:
    """The first answer (not a keep-alive) to one operation over `protocol`."""
    async with websockets.connect(server.ws, subprotocols=[protocol], open_timeout=10) as socket:  # type: ignore[list-item]
        init = {"type": "connection_init", "payload": {"authorization": f"Bearer {token}"}}
        await socket.send(json.dumps(init))
        assert json.loads(await socket.recv())["type"] == "connection_ack"
        kind = "subscribe" if protocol == "graphql-transport-ws" else "start"
        await socket.send(json.dumps({"id": "1", "type": kind, "payload": payload}))
        while True:
            message = json.loads(await asyncio.wait_for(socket.recv(), 10))
            if message["type"] not in ("ping", "pong", "ka"):
                return message


def errors_of(message: dict[str, Any]) -> list[dict[str, Any]]:
    payload = message["payload"]
    if isinstance(payload, list):
        return payload
    return payload.get("errors", [payload])


@pytest.mark.parametrize("protocol", ["graphql-transport-ws", "graphql-ws"])
@pytest.mark.parametrize(("query", "code"), WS_REFUSALS)
def test_websocket_refusals_carry_the_code_http_gives(
    trusted: Server, protocol: str, query: str, code: str | None
) -> None:
    before = trusted.head()
    message = asyncio.run(ws_answer(trusted, protocol, {"query": query}))
    errors = errors_of(message)
    assert len(errors) == 1 and errors[0]["extensions"]["code"] in (
        [code] if code else ["FORBIDDEN", "BAD_USER_INPUT"]
    ), message
    assert "Traceback" not in json.dumps(message)
    assert trusted.head() == before


def test_a_reader_mutation_is_forbidden_on_http_and_graphql_transport_ws(trusted: Server) -> None:
    query = 'mutation { cancelOrder(id: "x") { sequence } }'
    over_http = trusted.post(query, headers={"authorization": f"Bearer {READER}"})
    assert over_http["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    message = asyncio.run(ws_answer(trusted, "graphql-transport-ws", {"query": query}))
    assert errors_of(message)[0]["extensions"]["code"] == "FORBIDDEN"


@pytest.mark.parametrize(
    "body",
    [
        {"query": 123},
        {"query": "{ positions { id } }", "operationName": "Nope"},
        {"query": None},
        {"variables": {"a": 1}},
    ],
)
def test_malformed_operations_are_coded_and_logged_without_a_trace(
    trusted: Server, body: dict[str, Any]
) -> None:
    response = trusted.client.post("/graphql", json=body)
    assert response.status_code in (200, 400)
    errors = response.json()["errors"]
    assert [e["extensions"]["code"] for e in errors] == ["BAD_USER_INPUT"]
    assert "Traceback" not in response.text


def test_an_unknown_operation_name_over_websocket_is_coded(trusted: Server) -> None:
    payload = {"query": "subscription A { events { sequence } }", "operationName": "Nope"}
    for protocol in ("graphql-transport-ws", "graphql-ws"):
        errors = errors_of(asyncio.run(ws_answer(trusted, protocol, payload)))
        assert errors[0]["extensions"]["code"] == "BAD_USER_INPUT", errors
        assert "Nope" in errors[0]["message"]


def test_echoed_input_is_cut_to_a_short_prefix(trusted: Server) -> None:
    long = "X" * 5_000
    for query, variables in (
        (PLACE, {"input": order_input(instrument=long)}),
        (INGEST, {"q": [{"instrument": "A", "last": "9" * 5_000}]}),
        ("{ events(types: $t) { headSequence } }".replace("$t", json.dumps([long])), None),
        (PLACE, {"input": order_input(side=long)}),
        (PLACE, {"input": {**order_input(), long: 1}}),
        (PLACE, {"input": order_input(instrument=[long] * 20)}),
        ("{ positions(status: " + long + ") { id } }", None),
        ('{ order(id: "' + long + '") { id } }', None),
    ):
        error = refusal(trusted, query, variables)
        assert len(error["message"]) <= 600 and long[:100] not in error["message"]


@pytest.mark.parametrize(
    "text",
    [
        f"{ORDER_ID}\n",
        f" {ORDER_ID}",
        f"{{{ORDER_ID}}}",
        f"urn:uuid:{ORDER_ID}",
        ORDER_ID.replace("-", ""),
        ORDER_ID.replace("-", "_"),
        ORDER_ID.replace("1", "١"),
    ],
)
def test_ids_are_accepted_only_in_their_canonical_form(trusted: Server, text: str) -> None:
    query = "query($id: ID!) { order(id: $id) { id } }"
    error = refusal(trusted, query, {"id": text})
    assert error["extensions"] == {"code": "BAD_USER_INPUT", "field": "id"}
    assert trusted.data(query, {"id": ORDER_ID.upper()})["order"] is None


def test_client_mistakes_are_not_logged_as_errors(trusted: Server) -> None:
    """Runs last in this module: every refusal above was logged at info, no trace."""
    lines = Path(trusted.log).read_text().splitlines()
    errors = [line for line in lines if '"level": "error"' in line or "Traceback" in line]
    assert errors == [], "\n".join(line[:400] for line in errors)
    assert any('"request refused"' in line for line in lines)
