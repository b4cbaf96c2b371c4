"""The GraphQL `positions` query over 1 000 open positions, over HTTP on a real
server: p50/p99 of sequential requests on one keep-alive connection. The
baseline is `{ __typename }` on the same connection: the HTTP + GraphQL floor."""

from __future__ import annotations

import statistics
import time
from decimal import Decimal
from typing import Any

import httpx

from application.inputs import FillInput, OrderInput
from bench.context import Run
from bench.databases import scratch
from bench.report import Figure, bigger, on_sqlite
from bench.serving import Served, bench_server
from infrastructure.settings import load_settings
from interfaces.composition import build_system

POSITIONS = (
    "{ positions { id account instrument quantity averagePrice realizedPnl marketPrice "
    "unrealizedPnl status openedAt updatedAt asOf } }"
)
FLOOR = "{ __typename }"
INGEST = "mutation($q: [QuoteInput!]!) { ingestQuotes(quotes: $q) { sequence } }"
WAIT = 'query($n: Int) { quotes(instruments: ["P0000"], minSequence: $n) { instrument } }'
TARGET_P50_MS = 10.0


def open_positions(url: str, count: int) -> int:
    system = build_system(load_settings(database_url=url))
    for i in range(count):
        order = system.commands.orders.place_order(
            OrderInput(client_order_id=f"p{i}", instrument=f"P{i:04d}", side="BUY",
                       quantity=Decimal(3))
        ).order  # fmt: skip
        system.commands.orders.record_fill(
            FillInput(order_id=order.id, fill_id=f"pf{i}", quantity=Decimal(3),
                      price=Decimal("50.5") + Decimal(i % 100) / 8)
        )  # fmt: skip
    head = system.app.head_sequence()
    system.close()
    return head


def timings_ms(client: httpx.Client, query: str, requests: int, rows: int | None) -> list[float]:
    out = []
    for i in range(requests + 10):
        started = time.perf_counter()
        response = client.post("/graphql", json={"query": query})
        elapsed = time.perf_counter() - started
        body = response.json()
        if "errors" in body:
            raise RuntimeError(f"{query} failed: {body['errors']}")
        if rows is not None and len(body["data"]["positions"]) != rows:
            raise RuntimeError(f"expected {rows} positions, got {len(body['data']['positions'])}")
        if i >= 10:  # warm-up
            out.append(elapsed * 1000)
    return out


def after_each_change_ms(client: httpx.Client, requests: int, rows: int) -> list[float]:
    """The same query, each time after a quote changed one position's market price and
    the projections applied it (untimed): the view must read the changed rows and
    rebuild the positions they touch before it answers."""
    out = []
    for i in range(requests):
        quote = {"instrument": f"P{i % rows:04d}", "last": f"{60 + i / 100:.2f}"}
        body = {"query": INGEST, "variables": {"q": [quote]}}
        sequence = client.post("/graphql", json=body).json()["data"]["ingestQuotes"]["sequence"]
        wait = {"query": WAIT, "variables": {"n": sequence}}
        assert "errors" not in client.post("/graphql", json=wait).json()
        started = time.perf_counter()
        body = client.post("/graphql", json={"query": POSITIONS}).json()
        out.append((time.perf_counter() - started) * 1000)
        if len(body["data"]["positions"]) != rows:
            raise RuntimeError("wrong number of positions")
    return out


def _caught_up(served: Served, client: httpx.Client, head: int) -> None:
    deadline = time.monotonic() + 120
    query = "{ systemStatus { projections { sequence } } }"
    while time.monotonic() < deadline:
        projections = client.post("/graphql", json={"query": query}).json()["data"]
        if all(p["sequence"] >= head for p in projections["systemStatus"]["projections"]):
            return
        time.sleep(0.2)
    raise RuntimeError(f"projections did not reach {head} on {served.http}")


def run(context: Run) -> list[Figure]:
    count = context.size(1000, 50)
    requests = context.size(300, 20)
    figures = []
    for engine in context.engines:
        with scratch(engine, context.postgres_url) as db:
            head = open_positions(db, count)
            with bench_server(db) as served, httpx.Client(base_url=served.http, timeout=30) as c:
                _caught_up(served, c, head)
                ours = timings_ms(c, POSITIONS, requests, count)
                floor = timings_ms(c, FLOOR, requests, None)
                changed = after_each_change_ms(c, context.size(100, 10), count)
        p50, p99 = statistics.median(ours), statistics.quantiles(ours, n=100)[98]
        f50, f99 = statistics.median(floor), statistics.quantiles(floor, n=100)[98]
        common: dict[str, Any] = {"scenario": "positions_query", "engine": engine}
        figures += [
            Figure(
                **common,
                figure=f"{count} positions, p50",
                value=p50,
                unit="ms",
                **on_sqlite(engine, f"≤ {TARGET_P50_MS:.0f} ms", p50 <= TARGET_P50_MS),
                baseline=f50,
                baseline_label="{ __typename } ms",
                ratio=bigger(p50, f50),
                note=f"{requests} sequential requests",
            ),
            Figure(
                **common,
                figure=f"{count} positions, p99",
                value=p99,
                unit="ms",
                baseline=f99,
                baseline_label="{ __typename } ms",
                ratio=bigger(p99, f99),
            ),
            Figure(
                **common,
                figure=f"{count} positions after each change, p50",
                value=statistics.median(changed),
                unit="ms",
                **on_sqlite(
                    engine, f"≤ {TARGET_P50_MS:.0f} ms", statistics.median(changed) <= TARGET_P50_MS
                ),
                baseline=f50,
                baseline_label="{ __typename } ms",
                ratio=bigger(statistics.median(changed), f50),
                note="a quote moved before each query: the view reads the changed rows and "
                "rebuilds the positions they touch (ADR 010)",
            ),
        ]
    return figures
