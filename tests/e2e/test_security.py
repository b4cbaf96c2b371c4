"""Auth across the whole schema (SPEC §6, §11 "Auth"), beyond test_auth.py's samples.

Every mutation and every subscription field is enumerated from the served schema,
so a new one is covered without editing this file: each mutation is refused
without a token, with a wrong or malformed one, and (FORBIDDEN) with the reader
token, appending nothing; the trader token passes auth on each. Each subscription
field is refused over both WebSocket protocols without a token or with a wrong
one (handshake header or connection_init payload), and served to a reader.
Serving off loopback without tokens is refused for any non-loopback address, and
empty tokens count as none. No token value reaches the log, even at DEBUG, over
HTTP and WebSocket, accepted or refused.
"""

from __future__ import annotations

import asyncio
import json
import subprocess
from pathlib import Path
from typing import Any

import pytest
import websockets
from graphql import (
    GraphQLEnumType,
    GraphQLField,
    GraphQLInputObjectType,
    GraphQLInputType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLSchema,
    Undefined,
    build_schema,
)
from websockets.typing import Subprotocol

from tests.e2e.conftest import READER, TRADER
from tests.e2e.server import (
    CONTRACT,
    ROOT,
    Server,
    environment,
    free_port,
    running_server,
    serve_command,
    served_schema,
)

pytestmark = pytest.mark.e2e

PROTOCOLS = ["graphql-transport-ws", "graphql-ws"]
AUTH_CODES = {"UNAUTHENTICATED", "FORBIDDEN"}
SAMPLES = {
    "String": '"SEC"',
    "ID": '"00000000-0000-0000-0000-000000000000"',
    "Decimal": '"1"',
    "DateTime": '"2024-01-01T00:00:00Z"',
    "Int": "1",
    "Float": "1.5",
    "Boolean": "true",
}
# Header values that must not grant anything (a wrong token, or the trader's malformed).
NOT_A_TOKEN = {
    "no header": None,
    "wrong token": "Bearer not-the-token",
    "empty bearer": "Bearer",
    "no scheme": TRADER,
    "basic scheme": f"Basic {TRADER}",
    "token prefix": f"Bearer {TRADER[:-1]}",
    "token with a suffix": f"Bearer {TRADER}x",
    "token twice": f"Bearer {TRADER} {TRADER}",
    "token upper-cased": f"Bearer {TRADER.upper()}",
}


def literal(type_: GraphQLInputType) -> str:
    """A valid GraphQL literal of `type_`: required input fields only."""
    if isinstance(type_, GraphQLNonNull):
        return literal(type_.of_type)
    if isinstance(type_, GraphQLList):
        return f"[{literal(type_.of_type)}]"
    if isinstance(type_, GraphQLInputObjectType):
        fields = [
            f"{name}: {literal(spec.type)}"
            for name, spec in type_.fields.items()
            if isinstance(spec.type, GraphQLNonNull) and spec.default_value is Undefined
        ]
        return "{" + ", ".join(fields) + "}"
    if isinstance(type_, GraphQLEnumType):
        return next(iter(type_.values))
    assert type_.name in SAMPLES, f"add a sample literal for the scalar {type_.name}"
    return SAMPLES[type_.name]


def operation(kind: str, name: str, field: GraphQLField) -> str:
    """`kind { name(required args) { __typename } }`, valid against the schema."""
    required = [
        f"{arg}: {literal(spec.type)}"
        for arg, spec in field.args.items()
        if isinstance(spec.type, GraphQLNonNull) and spec.default_value is Undefined
    ]
    arguments = f"({', '.join(required)})" if required else ""
    return f"{kind} {{ {name}{arguments} {{ __typename }} }}"


def root_fields(schema: GraphQLSchema, kind: str) -> dict[str, str]:
    """Every field of a root type, as an operation; at least the contract's."""
    root = schema.mutation_type if kind == "mutation" else schema.subscription_type
    assert root is not None
    if CONTRACT.is_file():  # test_contract says when it is missing
        contract = build_schema(CONTRACT.read_text())
        contract_root = contract.mutation_type if kind == "mutation" else contract.subscription_type
        assert contract_root is not None and set(contract_root.fields) <= set(root.fields)
    return {name: operation(kind, name, field) for name, field in root.fields.items()}


@pytest.fixture(scope="module")
def schema(guarded: Server) -> GraphQLSchema:
    return served_schema(guarded)


def codes_for(server: Server, document: str, authorization: str | None) -> list[str]:
    headers = {"authorization": authorization} if authorization is not None else {}
    response = server.client.post("/graphql", json={"query": document}, headers=headers)
    assert response.status_code == 200, response.text
    return [e["extensions"]["code"] for e in response.json().get("errors", [])]


def head(server: Server) -> int:
    body = server.post(
        "{ systemStatus { headSequence } }", headers={"authorization": f"Bearer {READER}"}
    )
    return int(body["data"]["systemStatus"]["headSequence"])


# -- mutations --------------------------------------------------------------------------


def test_every_mutation_is_refused_without_a_valid_token_and_appends_nothing(
    guarded: Server, schema: GraphQLSchema
) -> None:
    before = head(guarded)
    wrong = {
        (name, case, tuple(codes))
        for name, document in root_fields(schema, "mutation").items()
        for case, authorization in NOT_A_TOKEN.items()
        if (codes := codes_for(guarded, document, authorization)) != ["UNAUTHENTICATED"]
    }
    assert wrong == set()
    assert head(guarded) == before


def test_the_reader_token_may_not_run_any_mutation(guarded: Server, schema: GraphQLSchema) -> None:
    before = head(guarded)
    reader = f"Bearer {READER}"
    wrong = {
        (name, tuple(codes))
        for name, document in root_fields(schema, "mutation").items()
        if (codes := codes_for(guarded, document, reader)) != ["FORBIDDEN"]
    }
    assert wrong == set()
    assert head(guarded) == before


def test_the_trader_token_passes_auth_on_every_mutation(
    guarded: Server, schema: GraphQLSchema
) -> None:
    """Sample arguments may still be refused (NOT_FOUND, CONFLICT ...), never for auth."""
    answered = {
        name: codes_for(guarded, document, f"bearer {TRADER}")
        for name, document in root_fields(schema, "mutation").items()
    }
    assert {name: codes for name, codes in answered.items() if AUTH_CODES & set(codes)} == {}
    assert any(codes == [] for codes in answered.values()), answered


# -- subscriptions ----------------------------------------------------------------------


async def subscribe(
    url: str,
    protocol: str,
    document: str,
    *,
    header: str | None = None,
    payload: dict[str, Any] | None = None,
) -> str:
    """Whether a subscription is `refused` (socket closed, connection error, or an error
    for the operation) or `served` (data, or still open after a short wait)."""
    headers = {"authorization": header} if header is not None else {}
    start = "subscribe" if protocol == "graphql-transport-ws" else "start"
    try:
        async with websockets.connect(
            url,
            subprotocols=[Subprotocol(protocol)],
            additional_headers=headers,
            open_timeout=5,
        ) as socket:
            await socket.send(json.dumps({"type": "connection_init", "payload": payload or {}}))
            if json.loads(await socket.recv())["type"] != "connection_ack":
                return "refused"
            message = {"id": "1", "type": start, "payload": {"query": document}}
            await socket.send(json.dumps(message))
            while True:
                try:
                    answer = json.loads(await asyncio.wait_for(socket.recv(), 0.5))
                except TimeoutError:
                    return "served"
                if answer["type"] in ("ka", "ping", "pong"):
                    continue
                refused = answer["type"] in ("error", "complete") or "errors" in answer["payload"]
                return "refused" if refused else "served"
    except websockets.ConnectionClosed:
        return "refused"
    except websockets.InvalidStatus:
        return "refused"


def outcomes(
    server: Server, schema: GraphQLSchema, **credentials: Any
) -> dict[tuple[str, str], str]:
    async def run() -> dict[tuple[str, str], str]:
        return {
            (name, protocol): await subscribe(server.ws, protocol, document, **credentials)
            for name, document in root_fields(schema, "subscription").items()
            for protocol in PROTOCOLS
        }

    return asyncio.run(asyncio.wait_for(run(), 120))


@pytest.mark.parametrize(
    "credentials",
    [
        {},
        {"header": "Bearer not-the-token"},
        {"header": f"Basic {READER}"},
        {"payload": {"authorization": "Bearer not-the-token"}},
        {"payload": {"authorization": READER}},
        {"payload": {"Authorization": f"Bearer {READER}x"}},
    ],
    ids=["none", "wrong header", "basic header", "wrong payload", "no scheme", "suffix"],
)
def test_every_subscription_is_refused_without_a_valid_token(
    guarded: Server, schema: GraphQLSchema, credentials: dict[str, Any]
) -> None:
    served = {
        key
        for key, outcome in outcomes(guarded, schema, **credentials).items()
        if outcome != "refused"
    }
    assert served == set()


def test_the_reader_token_may_subscribe_to_every_subscription(
    guarded: Server, schema: GraphQLSchema
) -> None:
    got = outcomes(guarded, schema, payload={"authorization": f"Bearer {READER}"})
    assert {key for key, outcome in got.items() if outcome != "served"} == set()


# -- binding ----------------------------------------------------------------------------


def serve_exit(tmp_path: Path, host: str, **settings: str) -> subprocess.CompletedProcess[str]:
    db = f"sqlite:///{tmp_path}/bind.db"
    return subprocess.run(
        serve_command("--host", host, "--port", str(free_port()), "--db", db),
        cwd=ROOT,
        env=environment(**settings),
        capture_output=True,
        text=True,
        timeout=30,
    )


@pytest.mark.parametrize(
    ("host", "settings"),
    [
        ("::", {}),
        ("192.0.2.10", {}),
        ("example.com", {}),
        ("0.0.0.0", {"reader_token": "", "trader_token": ""}),
    ],
    ids=["IPv6 any", "an interface address", "a host name", "empty tokens"],
)
def test_serving_off_loopback_without_tokens_is_refused(
    tmp_path: Path, host: str, settings: dict[str, str]
) -> None:
    result = serve_exit(tmp_path, host, **settings)
    assert result.returncode != 0
    assert f"refusing to serve on {host} without tokens" in result.stderr
    assert "Traceback" not in result.stderr


# -- logs -------------------------------------------------------------------------------

LOG_READER = "log-reader-7f3a9c1e"
LOG_TRADER = "log-trader-52d8b04f"
LOG_WRONG = "log-wrong-e61c2a77"


def test_no_token_value_reaches_the_log_even_at_debug(tmp_path: Path) -> None:
    with running_server(
        tmp_path, reader_token=LOG_READER, trader_token=LOG_TRADER, log_level="DEBUG"
    ) as server:
        mutation = (
            'mutation { ingestQuotes(quotes: [{instrument: "LOG", last: "1"}]) { sequence } }'
        )
        failing = (
            'mutation { cancelOrder(id: "00000000-0000-0000-0000-000000000000") { sequence } }'
        )
        for token in (LOG_READER, LOG_TRADER, LOG_WRONG):
            for document in ("{ positions { id } }", mutation, failing, "{ positions { "):
                codes_for(server, document, f"Bearer {token}")
            codes_for(server, "{ positions { id } }", token)
        events = "subscription { events(after: 0) { sequence } }"

        async def sockets() -> list[str]:
            return [
                await subscribe(server.ws, protocol, events, **credentials)
                for protocol in PROTOCOLS
                for token in (LOG_READER, LOG_WRONG)
                for credentials in (
                    {"header": f"Bearer {token}"},
                    {"payload": {"authorization": f"Bearer {token}"}},
                )
            ]

        seen = asyncio.run(asyncio.wait_for(sockets(), 60))
        assert "served" in seen and "refused" in seen
    text = server.log.read_text()
    assert '"level": "debug"' in text
    leaked = [token for token in (LOG_READER, LOG_TRADER, LOG_WRONG) if token in text]
    assert leaked == []
