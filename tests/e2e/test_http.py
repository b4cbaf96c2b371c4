"""Mutations and queries over HTTP against a real server: read-your-writes,
error codes without stack traces, nothing appended on rejection, limits."""

from __future__ import annotations

import json

import httpx
import pytest

from tests.e2e.server import Server

pytestmark = pytest.mark.e2e

PLACE = """
mutation($input: OrderInput!) {
  placeOrder(input: $input) { order { id clientOrderId status quantity asOf } sequence }
}"""
FILL = """
mutation($input: FillInput!) {
  recordFill(input: $input) {
    order { status filledQuantity averageFillPrice }
    trade { fillId realizedPnl }
    position { quantity averagePrice realizedPnl status }
    sequence
  }
}"""
INGEST = "mutation($q: [QuoteInput!]!) { ingestQuotes(quotes: $q) { accepted sequence } }"


def place(server: Server, client_order_id: str, instrument: str, side: str, quantity: str) -> dict:
    return server.data(
        PLACE,
        {
            "input": {
                "clientOrderId": client_order_id,
                "instrument": instrument,
                "side": side,
                "quantity": quantity,
            }
        },
    )["placeOrder"]


def fill(server: Server, order_id: str, fill_id: str, quantity: str, price: str, commission: str):
    return server.data(
        FILL,
        {
            "input": {
                "orderId": order_id,
                "fillId": fill_id,
                "quantity": quantity,
                "price": price,
                "commission": commission,
            }
        },
    )["recordFill"]


def test_fills_then_a_query_with_min_sequence_reads_the_same_position(server: Server) -> None:
    buy = place(server, "rw-1", "RW", "BUY", "20")
    fill(server, buy["order"]["id"], "rw-f1", "10", "100", "1")
    answered = fill(server, buy["order"]["id"], "rw-f2", "10", "110", "1")
    assert answered["position"] == {
        "quantity": "20",
        "averagePrice": "105",
        "realizedPnl": "-2",
        "status": "OPEN",
    }
    quote = server.data(INGEST, {"q": [{"instrument": "RW", "last": "120"}]})["ingestQuotes"]
    read = server.data(
        """query($n: Int) { position(instrument: "RW", minSequence: $n) {
             quantity averagePrice realizedPnl marketPrice unrealizedPnl asOf }
           orders(instrument: "RW", minSequence: $n) { status filledQuantity averageFillPrice }
           trades(instrument: "RW", minSequence: $n) { fillId } }""",
        {"n": quote["sequence"]},
    )
    position = read["position"]
    assert position["quantity"] == "20" and position["averagePrice"] == "105"
    assert position["realizedPnl"] == "-2"
    assert position["marketPrice"] == "120" and position["unrealizedPnl"] == "300"
    assert read["orders"] == [
        {"status": "FILLED", "filledQuantity": "20", "averageFillPrice": "105"}
    ]
    assert {t["fillId"] for t in read["trades"]} == {"rw-f1", "rw-f2"}


def test_the_positions_list_follows_every_fill_and_quote(server: Server) -> None:
    """`positions` answers from a cache while its read models stand still: each change
    (a fill, a quote) must show in the next query made with its sequence."""
    query = """query($n: Int) { positions(account: "cache", minSequence: $n) {
        instrument quantity marketPrice unrealizedPnl asOf } }"""

    def listed(sequence: int) -> dict[str, dict]:
        rows = server.data(query, {"n": sequence})["positions"]
        return {row["instrument"]: row for row in rows}

    order = server.data(
        'mutation { placeOrder(input: {clientOrderId: "pc-1", instrument: "PC", side: BUY, '
        'quantity: "4", account: "cache"}) { order { id } } }'
    )["placeOrder"]["order"]["id"]
    first = server.data(
        'mutation($o: ID!) { recordFill(input: {orderId: $o, fillId: "pc-f1", quantity: "1", '
        'price: "10"}) { sequence } }',
        {"o": order},
    )["recordFill"]["sequence"]
    assert listed(first)["PC"]["quantity"] == "1"
    assert listed(first)["PC"]["quantity"] == "1"  # again: from the cache, same answer
    quote = server.data(INGEST, {"q": [{"instrument": "PC", "last": "12"}]})["ingestQuotes"]
    priced = listed(quote["sequence"])["PC"]
    assert (priced["marketPrice"], priced["unrealizedPnl"]) == ("12", "2")
    second = server.data(
        'mutation($o: ID!) { recordFill(input: {orderId: $o, fillId: "pc-f2", quantity: "3", '
        'price: "12"}) { sequence } }',
        {"o": order},
    )["recordFill"]["sequence"]
    after = listed(second)["PC"]
    assert (after["quantity"], after["unrealizedPnl"]) == ("4", "2")
    assert after["asOf"] >= second - 1


def test_a_fills_trade_sequence_is_its_own_event_in_the_payload_and_the_read_model(
    server: Server,
) -> None:
    mutation = """mutation($o: ID!) { recordFill(input: {orderId: $o, fillId: "ts-f1",
        quantity: "2", price: "5"}) { trade { fillId sequence } sequence } }"""
    order = place(server, "ts-1", "TS", "BUY", "2")["order"]["id"]
    first = server.data(mutation, {"o": order})["recordFill"]
    server.data(INGEST, {"q": [{"instrument": "TS", "last": "6"}]})  # the head moves on
    again = server.data(mutation, {"o": order})["recordFill"]  # replayed: appends nothing
    trades = server.data(
        'query($n: Int) { trades(instrument: "TS", minSequence: $n) { fillId sequence } }',
        {"n": first["sequence"]},
    )["trades"]
    assert trades == [first["trade"]] == [again["trade"]]


def test_signal_accepted_places_its_order_and_reads_back(server: Server) -> None:
    generated = server.data(
        """mutation { generateSignal(input: {strategy: "s", instrument: "SIG", side: BUY,
             strength: "0.8", quantity: "3"}) { signal { id status } sequence } }"""
    )["generateSignal"]
    accepted = server.data(
        "mutation($id: ID!) { acceptSignal(id: $id) { signal { id status orderId } sequence } }",
        {"id": generated["signal"]["id"]},
    )["acceptSignal"]
    assert accepted["signal"]["status"] == "ACCEPTED"
    read = server.data(
        "query($id: ID!, $n: Int) { signal(id: $id, minSequence: $n) { status orderId } }",
        {"id": generated["signal"]["id"], "n": accepted["sequence"]},
    )
    assert read["signal"] == {"status": "ACCEPTED", "orderId": accepted["signal"]["orderId"]}


def test_events_query_pages_the_log_with_filters(server: Server) -> None:
    order = place(server, "ev-1", "EVQ", "BUY", "1")
    page = server.data(
        """query($id: ID) { events(after: 0, limit: 1000, aggregateId: $id) {
             headSequence events { sequence type aggregateId data } } }""",
        {"id": order["order"]["id"]},
    )["events"]
    assert [e["type"] for e in page["events"]] == ["OrderPlaced"]
    assert page["events"][0]["data"]["clientOrderId"] == "ev-1"
    typed = server.data('{ events(types: ["OrderPlaced"], limit: 1000) { events { type } } }')
    assert {e["type"] for e in typed["events"]["events"]} == {"OrderPlaced"}


BAD_INPUTS = [
    (
        PLACE,
        {"input": {"clientOrderId": "bad-1", "instrument": "A B", "side": "BUY", "quantity": "1"}},
        "BAD_USER_INPUT",
    ),
    (
        PLACE,
        {"input": {"clientOrderId": "bad-2", "instrument": "A", "side": "BUY", "quantity": "-1"}},
        "BAD_USER_INPUT",
    ),
    (
        PLACE,
        {"input": {"clientOrderId": "bad-3", "instrument": "A", "side": "BUY", "quantity": 1.5}},
        "BAD_USER_INPUT",
    ),
    (
        PLACE,
        {
            "input": {
                "clientOrderId": "bad-4",
                "instrument": "A",
                "side": "BUY",
                "quantity": "1",
                "type": "LIMIT",
            }
        },
        "BAD_USER_INPUT",
    ),
    (
        PLACE,
        {
            "input": {
                "clientOrderId": "bad-5",
                "instrument": "A",
                "side": "SIDEWAYS",
                "quantity": "1",
            }
        },
        "BAD_USER_INPUT",
    ),
    (
        FILL,
        {"input": {"orderId": "not-a-uuid", "fillId": "x", "quantity": "1", "price": "1"}},
        "BAD_USER_INPUT",
    ),
    (
        FILL,
        {
            "input": {
                "orderId": "00000000-0000-0000-0000-000000000000",
                "fillId": "x",
                "quantity": "1",
                "price": "1",
            }
        },
        "NOT_FOUND",
    ),
    (
        INGEST,
        {"q": [{"instrument": "A", "last": "1", "timestamp": "2024-01-01T00:00:00"}]},
        "BAD_USER_INPUT",
    ),
    (INGEST, {"q": [{"instrument": "A", "last": "1e400000"}]}, "BAD_USER_INPUT"),
    ("mutation { reconcile { sequence } }", None, "UNAVAILABLE"),
    ("{ orders(limit: 1001) { id } }", None, "BAD_USER_INPUT"),
    ("{ events(limit: 5000) { headSequence } }", None, "BAD_USER_INPUT"),
    ('{ events(types: ["NoSuchEvent"]) { headSequence } }', None, "BAD_USER_INPUT"),
    ("{ nope }", None, "BAD_USER_INPUT"),
    ("{ positions { ", None, "BAD_USER_INPUT"),
]


@pytest.mark.parametrize(("query", "variables", "code"), BAD_INPUTS)
def test_bad_input_gets_a_code_no_stack_trace_and_appends_nothing(
    server: Server, query: str, variables: dict | None, code: str
) -> None:
    before = server.head()
    body = server.post(query, variables)
    assert body.get("data") in (None, {}) or all(v is None for v in body["data"].values())
    assert [e["extensions"]["code"] for e in body["errors"]] == [code]
    text = json.dumps(body)
    assert "Traceback" not in text and 'File "' not in text
    assert server.head() == before


def test_conflicting_order_terms_are_a_conflict_and_append_nothing(server: Server) -> None:
    place(server, "dup-1", "DUP", "BUY", "1")
    before = server.head()
    again = place(server, "dup-1", "DUP", "BUY", "1")
    assert again["order"]["clientOrderId"] == "dup-1"
    body = server.post(
        PLACE,
        {"input": {"clientOrderId": "dup-1", "instrument": "DUP", "side": "SELL", "quantity": "1"}},
    )
    assert body["errors"][0]["extensions"] == {"code": "CONFLICT", "field": "clientOrderId"}
    assert server.head() == before


def test_ingest_over_ten_thousand_quotes_is_refused_not_clamped(server: Server) -> None:
    before = server.head()
    quotes = [{"instrument": "BIG", "last": "1"}] * 10_001
    body = server.post(INGEST, {"q": quotes})
    assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    assert "10000" in body["errors"][0]["message"]
    assert server.head() == before
    ok = server.data(INGEST, {"q": quotes[:10_000]})
    assert ok["ingestQuotes"]["accepted"] == 10_000


def test_documents_beyond_the_limits_are_refused(server: Server) -> None:
    deep = "{ positions { id } }"
    aliases = "{ " + " ".join(f"a{i}: systemStatus {{ headSequence }}" for i in range(50)) + " }"
    for query in (aliases,):
        body = server.post(query)
        assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    assert "errors" not in server.post(deep)
    huge = "{ " + "systemStatus { headSequence } " * 5_000 + "}"
    body = server.post(huge)
    assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"


def test_request_body_over_the_cap_is_refused(server: Server) -> None:
    response = server.client.post(
        "/graphql",
        content=b'{"query": "' + b" " * (5 * 1024 * 1024) + b'{ __typename }"}',
        headers={"content-type": "application/json"},
    )
    assert response.status_code == 413
    assert "Traceback" not in response.text


def test_min_sequence_beyond_the_head_is_unavailable_after_the_bound(server: Server) -> None:
    head = server.head()
    body = server.post("query($n: Int) { positions(minSequence: $n) { id } }", {"n": head + 1000})
    assert body["errors"][0]["extensions"]["code"] == "UNAVAILABLE"


def test_health_ready_and_metrics(server: Server) -> None:
    assert server.client.get("/health").json() == {"status": "ok"}
    ready = server.client.get("/ready")
    assert ready.status_code == 200 and ready.json()["status"] == "ready"
    metrics = server.client.get("/metrics")
    assert metrics.status_code == 200
    assert "tradestate_command_seconds" in metrics.text
    assert "tradestate_projection_lag_events" in metrics.text


def test_a_browser_get_of_graphql_gets_the_playground(server: Server) -> None:
    response = httpx.get(f"{server.http}/graphql", headers={"accept": "text/html"})
    assert response.status_code == 200
    assert "text/html" in response.headers["content-type"]
    assert "unpkg.com" not in response.text and "cdn.jsdelivr" not in response.text
