"""schemathesis (GraphQL mode) against a real server, on SQLite and PostgreSQL (issue 13).

The schema is loaded from the running server by introspection
(`schemathesis.graphql.from_url`); the custom scalars get generators of our own,
valid and hostile (Decimal, DateTime, JSON), and ID / String mostly draw ids and
instruments the server knows so cases reach past NOT_FOUND. Cases come in both
generation modes (valid documents, and documents with one schema violation) and are
sent as the trader, as a reader and with no token. Each answer must pass
schemathesis' own checks (no server error, a negative case refused, the answer
conforms to the schema) and ours: no 5xx, JSON, no stack trace or Python internals,
every error coded, and the log's head unmoved by a request that answered an error.

test_fuzz.py (hypothesis-graphql and hand-built variables) covers the same ground from
another generator; this module is the third-party tool's view of the API.
"""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.core.failures import FailureGroup
from schemathesis.graphql import nodes
from schemathesis.graphql.checks import GraphQLServerError
from schemathesis.specs.openapi.checks import negative_data_rejection, response_schema_conformance

from tests.e2e.conftest import READER, TRADER
from tests.e2e.fuzzing import (
    ENGINES,
    assert_current_and_nothing_logged_as_an_error,
    clean_answer,
    target_database,
)
from tests.e2e.server import Server, running_server

pytestmark = pytest.mark.e2e

INSTRUMENTS = ["SC", "SC2", "ETH-USD"]
CALLERS = {"trader": TRADER, "reader": READER, "anonymous": None}
# (caller, mode, examples, seconds): at most 880 cases and 63 s of requests per engine; on a
# loaded machine the time budget ends a run early (the cases left are drawn but not sent).
RUNS = [
    ("trader", GenerationMode.POSITIVE, 500, 30),
    ("trader", GenerationMode.NEGATIVE, 200, 15),
    ("reader", GenerationMode.POSITIVE, 120, 10),
    ("anonymous", GenerationMode.POSITIVE, 60, 8),
]
MIN_SENT = 10  # a run that sent fewer cases (machine far too slow) proves too little
# TRADESTATE_SCHEMATHESIS_SCALE=20 for a long exploratory run; CI runs the bounded default.
SCALE = int(os.environ.get("TRADESTATE_SCHEMATHESIS_SCALE", "1"))
BOUNDED = settings(
    deadline=None,
    database=None,
    print_blob=True,
    suppress_health_check=list(HealthCheck),
)
SCHEMATHESIS_CHECKS = [not_a_server_error, negative_data_rejection, response_schema_conformance]
# The contract's codes for a refusal by a resolver. schemathesis counts a resolver's error as
# a server error unless its code is one it knows (BAD_USER_INPUT, ...); these are ours.
DOMAIN_REFUSALS = {"NOT_FOUND", "CONFLICT", "UNAUTHENTICATED", "FORBIDDEN", "UNAVAILABLE"}

# -- the custom scalars' generators ---------------------------------------------------------

BAD_DECIMALS = [
    "NaN", "sNaN", "Infinity", "-Infinity", "1e999999999", "1E+400", "-1", "-0", "0",
    "9" * 40, "0." + "0" * 40 + "1", " 5 ", "5\n", "1_000", "١٢", "５", "0x1F", "", "1,5",
    "abc", "1e3",
]  # fmt: skip
BAD_DATETIMES = [
    "0001-01-01T00:00:00+14:00", "9999-12-31T23:59:59-14:00", "2024-02-30T00:00:00Z",
    "2024-01-01T00:00:00", "2024-01-01T24:00:00Z", "now", "", "2024-01-01T00:00:00+25:00",
    "2024-01-01", "1700000000",
]  # fmt: skip
DAY = timedelta(hours=23, minutes=59)

good_decimals = st.decimals(
    min_value=Decimal("0.0001"), max_value=Decimal(10**6), places=4, allow_nan=False
).map(str)
decimals = st.one_of(
    *[good_decimals.map(nodes.String)] * 6,
    st.sampled_from(BAD_DECIMALS).map(nodes.String),
    st.text(max_size=12).map(nodes.String),
    st.integers(-(10**6), 10**6).map(nodes.Int),
    st.floats(allow_nan=False, allow_infinity=False).map(nodes.Float),
)
good_datetimes = st.datetimes(
    min_value=datetime(1970, 1, 2), max_value=datetime(2100, 1, 1)
).flatmap(
    lambda moment: st.sampled_from([UTC, *map(timezone, (-DAY, DAY, timedelta(hours=5)))]).map(
        lambda zone: moment.replace(tzinfo=zone).isoformat()
    )
)
datetimes = st.one_of(
    *[good_datetimes.map(nodes.String)] * 3,
    st.sampled_from(BAD_DATETIMES).map(nodes.String),
    st.text(max_size=25).map(nodes.String),
)
json_values = st.one_of(
    st.text(max_size=10).map(nodes.String),
    st.integers().map(nodes.Int),
    st.booleans().map(nodes.Boolean),
    st.just(nodes.Null),
)


def register_scalars(ids: list[str]) -> None:
    """The custom scalars, and ID / String mostly drawn from what the server holds."""
    known = st.sampled_from(ids).map(nodes.String)
    instruments = st.sampled_from(INSTRUMENTS).map(nodes.String)
    schemathesis.graphql.scalar("Decimal", decimals)
    schemathesis.graphql.scalar("DateTime", datetimes)
    schemathesis.graphql.scalar("JSON", json_values)
    schemathesis.graphql.scalar(
        "ID",
        st.one_of(*[known] * 4, st.uuids().map(str).map(nodes.String), st.text().map(nodes.String)),
    )
    schemathesis.graphql.scalar(
        "String", st.one_of(*[instruments] * 3, st.text(max_size=30).map(nodes.String))
    )


# -- the server under test ------------------------------------------------------------------


@pytest.fixture(scope="module", params=ENGINES)
def target(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Server]:
    """A `tradestate serve` with reader and trader tokens; its client is the trader."""
    with contextlib.ExitStack() as stack:
        yield stack.enter_context(
            running_server(
                tmp_path_factory.mktemp("schemathesis"),
                db=target_database(request.param, stack),
                token=TRADER,
                reader_token=READER,
                trader_token=TRADER,
                min_sequence_timeout_seconds="0.05",
            )
        )


@pytest.fixture(scope="module")
def seeded_ids(target: Server) -> list[str]:
    """A live order (partly filled), a pending signal and an active monitor."""
    order = target.data(
        "mutation($i: OrderInput!) { placeOrder(input: $i) { order { id } } }",
        {"i": {"clientOrderId": "sc-1", "instrument": "SC", "side": "BUY", "quantity": "5"}},
    )["placeOrder"]["order"]["id"]
    target.data(
        "mutation($i: FillInput!) { recordFill(input: $i) { sequence } }",
        {"i": {"orderId": order, "fillId": "sc-f1", "quantity": "2", "price": "101.25"}},
    )
    signal = target.data(
        'mutation { generateSignal(input: {strategy: "sc", instrument: "SC", side: SELL, '
        'strength: "0.5"}) { signal { id } } }'
    )["generateSignal"]["signal"]["id"]
    monitor = target.data(
        'mutation { armMonitor(input: {instrument: "SC", stopLoss: "1"}) { monitor { id } } }'
    )["armMonitor"]["monitor"]["id"]
    return [order, signal, monitor]


@pytest.fixture(scope="module")
def api(target: Server, seeded_ids: list[str]) -> Any:
    """The schema as schemathesis loads it from the running server (no token needed)."""
    register_scalars(seeded_ids)
    return schemathesis.graphql.from_url(
        f"{target.http}/graphql", config=schemathesis.Config(), timeout=30
    )


# -- what every answer must be ----------------------------------------------------------------


def schemathesis_checks(case: Any, response: Any) -> None:
    """schemathesis' checks, except its "server error" verdict on a resolver's coded refusal."""
    try:
        case.validate_response(response, checks=SCHEMATHESIS_CHECKS)
    except FailureGroup as group:
        if not all(domain_refusal(failure) for failure in group.exceptions):
            raise


def domain_refusal(failure: BaseException) -> bool:
    return isinstance(failure, GraphQLServerError) and all(
        (error.get("extensions") or {}).get("code") in DOMAIN_REFUSALS for error in failure.errors
    )


# What the monitor policy appends by itself, on its own thread, when an earlier
# case's quote crossed an armed stop: it may land while a later case is refused.
POLICY_EVENTS = frozenset(
    {"MonitorTriggered", "OrderPlaced", "PositionMonitorDetached", "MonitorWaterMarkMoved"}
)


def appended_since(target: Server, head: int) -> list[str]:
    """The types of the events appended after `head`, in order."""
    page = target.data(f"{{ events(after: {head}, limit: 1000) {{ events {{ type }} }} }}")
    return [event["type"] for event in page["events"]["events"]]


def check_answer(target: Server, case: Any, response: Any, head_before: int) -> str:
    """schemathesis' checks, then ours; the outcome, for the failure message and the tally."""
    schemathesis_checks(case, response)
    sent = case.body if isinstance(case.body, str) else str(case.body)
    errors = clean_answer(response, sent).get("errors") or []
    if errors:
        appended = [t for t in appended_since(target, head_before) if t not in POLICY_EVENTS]
        assert not appended, f"{sent!r} answered {errors} but appended {appended}"
        return "refused " + ",".join(sorted({e["extensions"]["code"] for e in errors}))
    return "answered"


@pytest.mark.timeout(300 * SCALE)
@pytest.mark.parametrize(
    ("caller", "mode", "examples", "seconds"), RUNS, ids=lambda v: str(v).lower()
)
def test_schemathesis_cases_are_answered_or_refused_cleanly(
    target: Server, api: Any, caller: str, mode: GenerationMode, examples: int, seconds: int
) -> None:
    token = CALLERS[caller]
    headers = {"authorization": f"Bearer {token}"} if token else {}
    strategy = api.as_strategy(generation_mode=mode)
    tally: dict[str, int] = {}
    failed: list[BaseException] = []  # once a case fails, its shrinking ignores the budget

    @settings(BOUNDED, max_examples=examples * SCALE)
    @given(case=strategy)
    def run(case: Any) -> None:
        if not failed and time.monotonic() > deadline:
            return
        try:
            before = target.head()
            response = case.call(base_url=target.http, headers=headers, timeout=30)
            outcome = check_answer(target, case, response, before)
        except BaseException as error:
            failed.append(error)
            raise
        key = f"{case.operation.label}: {outcome}"
        tally[key] = tally.get(key, 0) + 1

    started = time.monotonic()
    deadline = started + seconds * SCALE
    run()
    elapsed = time.monotonic() - started
    print(f"\n{caller} {mode.value}: {sum(tally.values())} cases in {elapsed:.1f} s")
    for key, count in sorted(tally.items()):
        print(f"  {count:4d}  {key}")
    assert sum(tally.values()) >= min(MIN_SENT, examples), f"too few cases sent: {tally}"
    if caller != "trader":
        # Without the trader token no mutation may succeed.
        assert not any(k.startswith("Mutation.") and k.endswith("answered") for k in tally), tally
    if caller != "anonymous" and mode is GenerationMode.POSITIVE:
        # The generators must reach past refusals: some operations are really carried out.
        assert any(k.endswith("answered") for k in tally), tally


def test_after_schemathesis_read_models_are_current_and_nothing_was_logged_as_an_error(
    target: Server,
) -> None:
    """What schemathesis got accepted must not poison a projection, nor fault the server."""
    assert_current_and_nothing_logged_as_an_error(target)
