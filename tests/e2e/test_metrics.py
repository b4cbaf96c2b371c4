"""Every metric `/metrics` declares moves when its thing happens (issue 13, item 11),
read through a real server's `/metrics` after real commands, projections, a
reconciliation run and a conflating subscription."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Iterator

import pytest
import websockets
from prometheus_client.parser import text_string_to_metric_families

from tests.e2e.server import Server, running_server

pytestmark = pytest.mark.e2e

PLACE = """mutation($input: OrderInput!) { placeOrder(input: $input) { order { id } } }"""
FILL = """mutation($input: FillInput!) { recordFill(input: $input) { sequence } }"""
INGEST = "mutation($q: [QuoteInput!]!) { ingestQuotes(quotes: $q) { sequence } }"
# Counters no ordinary workload moves: a subscriber closed for being too slow.
NEEDS_A_SLOW_CLIENT = {"tradestate_subscriptions_overflowed"}


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """A demo server (engine and paper broker) with no market feed: nothing trades
    unless the test does, and the broker's book stays empty."""
    with running_server(
        tmp_path_factory.mktemp("metrics"),
        args=("--demo",),
        engine_feed="none",
        reconcile_interval_seconds="3600",
    ) as started:
        yield started


def samples(server: Server) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    text = server.client.get("/metrics").text
    found = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            found[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return found


def value(server: Server, name: str, **labels: str) -> float:
    return samples(server).get((name, tuple(sorted(labels.items()))), 0.0)


def wait_for(check, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "the metric did not move"
        time.sleep(0.1)


def test_appended_events_are_counted_by_type(demo: Server) -> None:
    placed_before = value(demo, "tradestate_events_appended_total", type="OrderPlaced")
    filled_before = value(demo, "tradestate_events_appended_total", type="FillRecorded")
    order = demo.data(
        PLACE,
        {"input": {"clientOrderId": "m-1", "instrument": "MET", "side": "BUY", "quantity": "5"}},
    )["placeOrder"]["order"]
    fill = {"orderId": order["id"], "fillId": "m-f1", "quantity": "5", "price": "10"}
    demo.data(FILL, {"input": fill})
    demo.data(FILL, {"input": fill})  # a replay appends nothing and counts nothing
    after = samples(demo)
    assert after[("tradestate_events_appended_total", (("type", "OrderPlaced"),))] == (
        placed_before + 1
    )
    assert after[("tradestate_events_appended_total", (("type", "FillRecorded"),))] == (
        filled_before + 1
    )


def test_projections_count_the_events_they_apply(demo: Server) -> None:
    before = value(demo, "tradestate_projection_events_applied_total", projection="trades")
    order = demo.data(
        PLACE,
        {"input": {"clientOrderId": "m-2", "instrument": "MET", "side": "BUY", "quantity": "1"}},
    )["placeOrder"]["order"]
    demo.data(
        FILL, {"input": {"orderId": order["id"], "fillId": "m-f2", "quantity": "1", "price": "11"}}
    )
    wait_for(
        lambda: (
            # >=: the previous test's fill may be counted after `before` was read
            value(demo, "tradestate_projection_events_applied_total", projection="trades")
            >= before + 1
        )
    )


def test_reconciliation_mismatches_are_counted_by_policy(demo: Server) -> None:
    """Fills recorded by mutation never reached the paper broker: its book says 0."""
    before = value(demo, "tradestate_reconciliation_mismatches_total", policy="ALERT")
    run = demo.data("mutation { reconcile { reconciliation { mismatches { instrument } } } }")
    found = len(run["reconcile"]["reconciliation"]["mismatches"])
    assert found >= 1
    assert value(demo, "tradestate_reconciliation_mismatches_total", policy="ALERT") == (
        before + found
    )


def test_conflated_quotes_are_counted_as_dropped(demo: Server) -> None:
    async def run() -> None:
        async with websockets.connect(demo.ws, subprotocols=["graphql-transport-ws"]) as socket:  # type: ignore[list-item]
            await socket.send(json.dumps({"type": "connection_init", "payload": {}}))
            assert json.loads(await socket.recv())["type"] == "connection_ack"
            query = 'subscription { quotes(instruments: ["CNF"], throttleMs: 3000) { last } }'
            await socket.send(
                json.dumps({"id": "q", "type": "subscribe", "payload": {"query": query}})
            )
            await asyncio.sleep(0.5)
            for last in range(1, 6):  # the first is delivered, the window then conflates
                await asyncio.to_thread(
                    demo.data, INGEST, {"q": [{"instrument": "CNF", "last": str(last)}]}
                )
                await asyncio.sleep(0.3)

    before = value(
        demo, "tradestate_subscription_messages_dropped_total", field="quotes", reason="conflated"
    )
    asyncio.run(run())
    assert (
        value(
            demo,
            "tradestate_subscription_messages_dropped_total",
            field="quotes",
            reason="conflated",
        )
        > before
    )


def test_every_declared_counter_has_moved(demo: Server) -> None:
    """Runs after the workload above (and a refused request): no counter of /metrics is
    declared and never incremented."""
    demo.post("{ nope }")
    text = demo.client.get("/metrics").text
    still = []
    for family in text_string_to_metric_families(text):
        if family.type != "counter" or family.name in NEEDS_A_SLOW_CLIENT:
            continue
        if not any(s.value > 0 for s in family.samples if s.name.endswith("_total")):
            still.append(family.name)
    assert still == []
