"""Fuzzing the GraphQL API of a real server with the trader token (SPEC §11 "Bad input").

Operations come from the served schema: whole documents from hypothesis-graphql
(valid ones and ones with a single schema violation), and one operation per root
field whose variables are drawn per input type, valid or hostile; then hand-picked
malformed requests and documents beyond the limits. Every answer: no 5xx, JSON, no
stack trace or internal exception text, every error coded (never
INTERNAL_SERVER_ERROR), and a refused mutation appends nothing. Last, the read
models have applied every accepted event and the server logged no error.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest
from graphql import (
    GraphQLEnumType,
    GraphQLField,
    GraphQLInputObjectType,
    GraphQLInputType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLSchema,
    GraphQLType,
    get_named_type,
)
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from hypothesis_graphql import Mode, mutations, nodes, queries

from tests.e2e.conftest import READER, TRADER
from tests.e2e.fuzzing import (
    ENGINES,
    assert_current_and_nothing_logged_as_an_error,
    clean_answer,
    target_database,
)
from tests.e2e.server import Server, running_server, served_schema

pytestmark = pytest.mark.e2e

MAX_BODY = 1024 * 1024
MAX_DEPTH, MAX_ALIASES, MAX_TOKENS = 10, 30, 20_000
FUZZ = settings(
    deadline=None,
    database=None,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
INSTRUMENTS = ["FZ", "FZ2", "BTC-USD"]
HOSTILE_DECIMALS = [
    "NaN", "-NaN", "sNaN", "Infinity", "-Infinity", "inf", "1e999999999", "1E+400", "1e-400",
    "-1", "-0", "0", "-0.0001", "9" * 30, "0." + "0" * 30 + "1", " 12 ", "1_000", "١٢",
    "0x1F", "", "1,5",
]  # fmt: skip
HOSTILE_DATETIMES = [
    "0001-01-01T00:00:00+14:00", "9999-12-31T23:59:59-14:00", "2024-02-30T00:00:00Z",
    "2024-01-01T00:00:00", "2024-01-01T24:00:00Z", "now", "", "2024-01-01T00:00:00+25:00",
]  # fmt: skip
HOSTILE_STRINGS = [
    "\x00",
    "a\x00b",
    "\ud800",
    "💥",
    "\u202eFZ",
    "F\u200bZ",
    "Z\u0301",
    " ",
    "x" * 300,
]
INGEST = "mutation($q: [QuoteInput!]!) { ingestQuotes(quotes: $q) { accepted sequence } }"
PLACE = "mutation($i: OrderInput!) { placeOrder(input: $i) { sequence } }"
FILL = "mutation($i: FillInput!) { recordFill(input: $i) { sequence } }"
ARM = "mutation($i: MonitorInput!) { armMonitor(input: $i) { sequence } }"
JSON = {"content-type": "application/json"}


@pytest.fixture(scope="module", params=ENGINES)
def target(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Server]:
    """A server with tokens on its own store; its client carries the trader (writer) token."""
    with contextlib.ExitStack() as stack:
        db = target_database(request.param, stack)
        yield stack.enter_context(fuzz_server(tmp_path_factory.mktemp("fuzz"), db))


def fuzz_server(tmp: Path, db: str | None) -> contextlib.AbstractContextManager[Server]:
    return running_server(
        tmp,
        db=db,
        token=TRADER,
        reader_token=READER,
        trader_token=TRADER,
        min_sequence_timeout_seconds="0.05",
        max_request_bytes=str(MAX_BODY),
        graphql_max_depth=str(MAX_DEPTH),
        graphql_max_aliases=str(MAX_ALIASES),
        graphql_max_tokens=str(MAX_TOKENS),
    )


@pytest.fixture(scope="module")
def schema(target: Server) -> GraphQLSchema:
    return served_schema(target)


@pytest.fixture(scope="module")
def ids(target: Server) -> list[str]:
    """Ids of a live order, signal and monitor, so fuzzed commands also reach them."""
    order = target.data(
        PLACE.replace("sequence", "order { id } sequence"),
        {"i": {"clientOrderId": "fz-1", "instrument": "FZ", "side": "BUY", "quantity": "5"}},
    )["placeOrder"]["order"]["id"]
    signal = target.data(
        'mutation { generateSignal(input: {strategy: "fz", instrument: "FZ", side: SELL, '
        'strength: "0.5"}) { signal { id } } }'
    )["generateSignal"]["signal"]["id"]
    fill = {"orderId": order, "fillId": "fz-f1", "quantity": "2", "price": "10"}
    target.data(FILL, {"i": fill})
    monitor = target.data(
        ARM.replace("sequence", "monitor { id }"), {"i": {"instrument": "FZ", "stopLoss": "1"}}
    )["armMonitor"]["monitor"]["id"]
    return [order, signal, monitor]


# -- what every answer must be ----------------------------------------------------------


def checked(response: httpx.Response) -> dict[str, Any]:
    """The answer's body, after the checks every answer must pass (fuzzing.clean_answer);
    an answer other than 200 says why in its errors."""
    body = clean_answer(response, response.request.read().decode(errors="replace"))
    assert response.status_code == 200 or body.get("errors"), response.text
    return body


def outcome(kind: str, body: dict[str, Any]) -> str:
    """For --hypothesis-show-statistics: how often each kind was accepted or refused."""
    codes = sorted({e["extensions"]["code"] for e in body.get("errors") or []})
    return f"{kind.strip() or 'query'}: {'refused' if refused(body) else 'answered'} {codes}"


def refused(body: dict[str, Any]) -> bool:
    data = body.get("data")
    return data is None or all(value is None for value in data.values())


APPENDED = "query($a: Int!) { events(after: $a, limit: 1000) { events { type data } } }"
# What the monitor policy appends on its own, a moment after an accepted ingestQuotes
# (ADR 013): a trigger (with its exit order and the others it supersedes), a mark.
POLICY_EVENTS = {"MonitorTriggered", "MonitorWaterMarkMoved", "PositionMonitorDetached"}


def by_the_monitor_policy(event: dict[str, Any]) -> bool:
    data = event["data"]
    if event["type"] == "OrderPlaced":
        return str(data.get("clientOrderId")).startswith("monitor-")
    if event["type"] == "MonitorDisarmed":
        return str(data.get("reason")).startswith("superseded by monitor")
    return event["type"] in POLICY_EVENTS


def send(server: Server, mutation: bool, **request: Any) -> dict[str, Any]:
    """POST a request; a mutation it refuses must append nothing (the monitor policy
    may append meanwhile, on quotes accepted before)."""
    if "json" in request:  # httpx cannot encode a lone surrogate; json.dumps escapes it
        request = {"content": json.dumps(request.pop("json")).encode(), "headers": JSON}
    before = server.head() if mutation else None
    body = checked(server.client.post("/graphql", **request))
    if before is not None and refused(body) and server.head() != before:
        appended = server.data(APPENDED, {"a": before})["events"]["events"]
        assert all(by_the_monitor_policy(e) for e in appended), (
            f"a refused mutation appended events: {body} {appended}"
        )
    return body


# -- strategies -------------------------------------------------------------------------

DAY = timedelta(hours=23, minutes=59)
fixed_offsets = st.timedeltas(min_value=-DAY, max_value=DAY).map(timezone)
positive_decimals = st.decimals(min_value=Decimal("0.0001"), max_value=Decimal(10**6), places=4)
decimal_texts = st.one_of(
    *[positive_decimals.map(str)] * 6,
    st.decimals().map(str),
    st.sampled_from(HOSTILE_DECIMALS),
    st.text(max_size=20),
)
datetime_texts = st.one_of(
    *[st.datetimes(timezones=st.just(UTC)).map(datetime.isoformat)] * 2,
    *[st.datetimes(timezones=fixed_offsets).map(datetime.isoformat)] * 2,
    st.sampled_from(HOSTILE_DATETIMES),
    st.text(max_size=30),
)
big_ints = st.sampled_from([0, -1, 1, 1000, 1001, 2**31 - 1, 2**31, -(2**31) - 1, 10**30])
junk = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner),
    max_leaves=8,
)


def texts(known: list[str]) -> st.SearchStrategy[str]:
    """Mostly a known value, else hostile or arbitrary text."""
    likely = st.sampled_from(known)
    return st.one_of(*[likely] * 3, st.sampled_from(HOSTILE_STRINGS), st.text(max_size=40))


def scalar_values(name: str, ids: list[str]) -> st.SearchStrategy[Any]:
    return {
        "Decimal": st.one_of(*[decimal_texts] * 3, st.integers(), st.floats()),
        "DateTime": datetime_texts,
        "ID": texts(ids) | st.uuids().map(str),
        "String": texts(INSTRUMENTS),
        "Int": st.one_of(*[st.integers(0, 1100)] * 3, st.integers(), big_ints),
        "Float": st.floats(),
        "Boolean": st.booleans(),
    }.get(name, junk)


def mostly(good: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    return st.one_of(*[good] * 7, junk)


def values_for(type_: GraphQLInputType, ids: list[str]) -> st.SearchStrategy[Any]:
    """JSON values for a variable of `type_`: mostly well-shaped (with a hostile scalar
    now and then), sometimes junk."""
    return mostly(shaped(type_, ids))


def shaped(type_: GraphQLInputType, ids: list[str]) -> st.SearchStrategy[Any]:
    if isinstance(type_, GraphQLNonNull):
        return shaped(type_.of_type, ids)
    if isinstance(type_, GraphQLList):
        return st.lists(shaped(type_.of_type, ids), max_size=3)
    if isinstance(type_, GraphQLInputObjectType):
        fields = {name: shaped(f.type, ids) for name, f in type_.fields.items()}
        required = {n for n, f in type_.fields.items() if isinstance(f.type, GraphQLNonNull)}
        return st.fixed_dictionaries(
            {n: s for n, s in fields.items() if n in required},
            optional={n: s for n, s in fields.items() if n not in required},
        )
    if isinstance(type_, GraphQLEnumType):
        return st.one_of(*[st.sampled_from(list(type_.values))] * 7, st.sampled_from(["HOLD", ""]))
    return scalar_values(type_.name, ids)


def selection(type_: GraphQLType, depth: int = 0) -> str:
    """Every leaf field of an output type, objects to depth 2."""
    named = get_named_type(type_)
    if not isinstance(named, GraphQLObjectType):
        return ""
    parts = []
    for name, spec in named.fields.items():
        inner = get_named_type(spec.type)
        if not isinstance(inner, GraphQLObjectType):
            parts.append(name)
        elif depth < 2:
            parts.append(f"{name} {selection(inner, depth + 1)}")
    return "{ " + " ".join(parts) + " }"


class Operation:
    """One root field's document, and a strategy for its variables."""

    def __init__(self, mutation: bool, document: str, variables: st.SearchStrategy[Any]):
        self.mutation, self.document, self.variables = mutation, document, variables

    def __repr__(self) -> str:
        return self.document


def operation(kind: str, name: str, root: GraphQLField, ids: list[str]) -> Operation:
    params = ", ".join(f"${arg}: {spec.type}" for arg, spec in root.args.items())
    arguments = ", ".join(f"{arg}: ${arg}" for arg in root.args)
    document = (
        f"{kind}{f'({params})' if params else ''} "
        f"{{ {name}{f'({arguments})' if arguments else ''} {selection(root.type)} }}"
    )
    values = {arg: values_for(spec.type, ids) for arg, spec in root.args.items()}
    required = {a for a, spec in root.args.items() if isinstance(spec.type, GraphQLNonNull)}
    variables = st.fixed_dictionaries(
        {a: s for a, s in values.items() if a in required},
        optional={a: s for a, s in values.items() if a not in required},
    )
    return Operation(kind == "mutation", document, variables)


@pytest.fixture(scope="module")
def operations(schema: GraphQLSchema, ids: list[str]) -> list[Operation]:
    assert schema.query_type is not None and schema.mutation_type is not None
    roots = [("query", schema.query_type), ("mutation", schema.mutation_type)]
    return [
        operation(kind, name, spec, ids)
        for kind, root in roots
        for name, spec in root.fields.items()
    ]


@pytest.fixture(scope="module")
def documents(schema: GraphQLSchema, ids: list[str]) -> st.SearchStrategy[str]:
    scalars = {
        "Decimal": st.one_of(
            decimal_texts.map(nodes.String),
            st.integers().map(nodes.Int),
            st.floats(allow_nan=False, allow_infinity=False).map(nodes.Float),
        ),
        "DateTime": datetime_texts.map(nodes.String),
        "ID": (texts(ids) | st.uuids().map(str)).map(nodes.String),
        "String": texts(INSTRUMENTS).map(nodes.String),
    }
    assert schema.mutation_type is not None
    # One root field per mutation: with several, a later field's error nulls the
    # whole answer (non-null payloads) after an earlier field has appended.
    single = [[name] for name in schema.mutation_type.fields]
    return st.one_of(
        *(queries(schema, custom_scalars=scalars, mode=mode) for mode in Mode),
        *(
            mutations(schema, fields=fields, custom_scalars=scalars, mode=mode)
            for fields in single
            for mode in Mode
        ),
    )


# -- the fuzz tests -----------------------------------------------------------------------


@settings(FUZZ, max_examples=300)
@given(data=st.data())
def test_generated_documents_are_answered_or_refused_cleanly(
    target: Server, documents: st.SearchStrategy[str], data: st.DataObject
) -> None:
    document = data.draw(documents, label="document")
    body = send(target, document.startswith("mutation"), json={"query": document})
    event(outcome(document.split("{")[0] or "query", body))


@settings(FUZZ, max_examples=500)
@given(data=st.data())
def test_fuzzed_variables_are_answered_or_refused_cleanly(
    target: Server, operations: list[Operation], data: st.DataObject
) -> None:
    chosen = data.draw(st.sampled_from(operations), label="operation")
    variables = data.draw(chosen.variables, label="variables")
    body = send(target, chosen.mutation, json={"query": chosen.document, "variables": variables})
    event(outcome("mutation" if chosen.mutation else "query", body))


QUOTE = {"instrument": "FZ", "last": "1"}
ORDER = {"clientOrderId": "fz-m", "instrument": "FZ", "side": "BUY", "quantity": "1"}
NO_ORDER = "00000000-0000-0000-0000-000000000000"


def ask(query: str, **variables: Any) -> dict[str, Any]:
    return {"json": {"query": query, "variables": variables}}


def raw(content: bytes | str, content_type: str = "application/json") -> dict[str, Any]:
    return {"content": content, "headers": {"content-type": content_type}}


def quote(**fields: Any) -> dict[str, Any]:
    return ask(INGEST, q=[{**QUOTE, **fields}])


def order(**fields: Any) -> dict[str, Any]:
    return ask(PLACE, i={**ORDER, **fields})


def quote_with_token(token: bytes) -> dict[str, Any]:
    """A quote whose `last` is a bare JSON token (NaN, Infinity, 1e400)."""
    variables = b'{"q": [{"instrument": "FZ", "last": ' + token + b"}]}"
    return raw(b'{"query": "' + INGEST.encode() + b'", "variables": ' + variables + b"}")


INGEST_BODY = json.dumps({"query": INGEST, "variables": {"q": [QUOTE]}})
DEEP = b"[" * 100_000 + b"]" * 100_000
MALFORMED: dict[str, dict[str, Any]] = {
    "invalid JSON": raw(b'{"query": "mutation {'),
    "empty body": raw(b""),
    "JSON null": raw(b"null"),
    "JSON number": raw(b"12"),
    "JSON string": raw(b'"mutation { reconcile { sequence } }"'),
    "batch": {"json": [{"query": INGEST, "variables": {"q": [QUOTE]}}]},
    "not UTF-8": raw(INGEST_BODY.encode()[:-1] + b', "x": "\xff\xfe"}'),
    "nested 100 000 deep": raw(b'{"query": "{ __typename }", "variables": {"a": ' + DEEP + b"}}"),
    "text/plain": raw(INGEST_BODY, "text/plain"),
    "no content type": raw(INGEST_BODY, ""),
    "form": {"data": {"query": INGEST, "variables": json.dumps({"q": [QUOTE]})}},
    "multipart": {"files": {"operations": INGEST_BODY}},
    "query not a string": {"json": {"query": 12}},
    "no query": {"json": {"variables": {"q": [QUOTE]}}},
    "variables a list": {"json": {"query": INGEST, "variables": [QUOTE]}},
    "extensions a string": {
        "json": {"query": INGEST, "variables": {"q": [QUOTE]}, "extensions": "x"}
    },
    "unknown operation": {
        "json": {"query": INGEST, "variables": {"q": [QUOTE]}, "operationName": "X"}
    },
    "subscription over HTTP": {"json": {"query": "subscription { events { sequence } }"}},
    "NaN token for a Decimal": quote_with_token(b"NaN"),
    "-Infinity token for a Decimal": quote_with_token(b"-Infinity"),
    "1e400 for a Decimal": quote_with_token(b"1e400"),
    **{
        f"{text!r} for a Decimal": quote(last=text)
        for text in ["NaN", "sNaN", "Infinity", "-Infinity", "1e999999999", "9" * 40, "1.5e-30"]
    },
    "negative order quantity": order(quantity="-5"),
    "negative quote": quote(last="-1"),
    "negative stop loss": ask(ARM, i={"instrument": "FZ", "stopLoss": "-1"}),
    "negative fill": ask(
        FILL, i={"orderId": NO_ORDER, "fillId": "f", "quantity": "-1", "price": "1"}
    ),
    "unknown enum in a variable": order(side="HOLD"),
    "unknown enum in the document": ask("mutation { reconcile(policy: NOPE) { sequence } }"),
    "quotes as a string": ask(INGEST, q="FZ 1"),
    "Decimal as an object": quote(last={"v": 1}),
    "ID as a list": ask("mutation($id: ID!) { cancelOrder(id: $id) { sequence } }", id=["x"]),
    "Int beyond 32 bits": ask("query($n: Int) { positions(minSequence: $n) { id } }", n=2**63),
    "Int literal beyond 64 bits": ask("{ orders(limit: 100000000000000000000000) { id } }"),
    **{f"instrument {text!r}": quote(instrument=text) for text in HOSTILE_STRINGS},
    "clientOrderId with NUL": order(clientOrderId="a\x00b"),
    "clientOrderId of 900 KB": order(clientOrderId="x" * 900_000),
    "50 000 unused variables": ask(INGEST, q="x", **{f"v{i}": i for i in range(50_000)}),
    "timestamp out of range in UTC": quote(timestamp="0001-01-01T00:00:00+14:00"),
}


@pytest.mark.parametrize("name", MALFORMED)
def test_malformed_requests_are_refused_with_a_code_and_append_nothing(
    target: Server, name: str
) -> None:
    body = send(target, True, **MALFORMED[name])
    assert refused(body) and body["errors"], body


def test_a_mutation_over_get_is_refused_and_appends_nothing(target: Server) -> None:
    before = target.head()
    query = 'mutation { ingestQuotes(quotes: [{instrument: "FZ", last: "1"}]) { sequence } }'
    body = checked(target.client.get("/graphql", params={"query": query}))
    assert refused(body) and "GET" in body["errors"][0]["message"]
    assert target.head() == before


def nested(levels: int) -> str:
    return "{ " + "positions { " * levels + "id" + " }" * levels + " }"


LIMITS = {
    "depth": (nested(MAX_DEPTH + 1), "depth"),
    "nesting beyond the parser": (nested(5_000), "nests too deeply"),
    "aliases": (
        "{ " + " ".join(f"a{i}: __typename" for i in range(MAX_ALIASES + 1)) + " }",
        "aliases",
    ),
    "tokens": ("{ " + "__typename " * MAX_TOKENS + "}", "tokens"),
}


@pytest.mark.parametrize("name", LIMITS)
def test_documents_beyond_a_limit_are_refused_with_a_clear_error(target: Server, name: str) -> None:
    document, said = LIMITS[name]
    assert len(document) < MAX_BODY
    body = checked(target.client.post("/graphql", json={"query": document}))
    assert refused(body)
    assert any(said in error["message"] for error in body["errors"]), body["errors"]


def test_a_body_over_the_cap_is_refused_with_a_code(target: Server) -> None:
    content = json.dumps({"query": INGEST + " " * MAX_BODY, "variables": {"q": [QUOTE]}})
    before = target.head()
    response = target.client.post("/graphql", content=content, headers=JSON)
    assert response.status_code == 413
    assert "Too Large" in checked(response)["errors"][0]["message"]
    assert target.head() == before


def test_after_fuzzing_read_models_are_current_and_nothing_was_logged_as_an_error(
    target: Server,
) -> None:
    """Accepted input must not poison a projection, nor any request fault the server."""
    assert_current_and_nothing_logged_as_an_error(target)


WS_MESSAGES = {
    "nested beyond the parser": "[" * 200_000,
    "not JSON": "{type: connection_init",
    "binary-looking text": "\x00\x01\x02",
}


@pytest.mark.parametrize("protocol", ["graphql-transport-ws", "graphql-ws"])
@pytest.mark.parametrize("name", WS_MESSAGES)
def test_bad_websocket_messages_close_cleanly_and_log_no_trace(
    target: Server, protocol: str, name: str
) -> None:
    """Bad WebSocket messages: graphql-transport-ws closes with 4400, the legacy
    protocol ignores them; never an internal error, never a stack trace."""
    import asyncio

    import websockets
    from websockets.typing import Subprotocol

    async def run() -> tuple[int | None, str]:
        async with websockets.connect(
            target.ws,
            subprotocols=[Subprotocol(protocol)],
            additional_headers={"authorization": f"Bearer {READER}"},
            max_size=None,
        ) as socket:
            await socket.send(json.dumps({"type": "connection_init", "payload": {}}))
            assert json.loads(await socket.recv())["type"] == "connection_ack"
            await socket.send(WS_MESSAGES[name])
            with contextlib.suppress(TimeoutError, websockets.ConnectionClosed):
                while True:
                    message = json.loads(await asyncio.wait_for(socket.recv(), 2))
                    assert message["type"] == "ka", message
            return socket.close_code, socket.close_reason or ""

    code, reason = asyncio.run(run())
    if protocol == "graphql-transport-ws":
        assert (code, reason) == (4400, "WebSocket message must be valid JSON")
    else:
        assert code is None  # ignored; the connection stays open
    log = target.log.read_text()
    assert "Traceback" not in log and "RecursionError" not in log
    assert "errors" not in target.post("{ systemStatus { headSequence } }")
