"""The GraphQL `account` and `pnlHistory` queries over a day of 1-minute P&L bars for
10 accounts (SPEC §10), over HTTP on a real server: p50/p99 of sequential requests on
one keep-alive connection, beside `{ __typename }` on the same connection.

The bars are written into the read model directly (a day of event timestamps cannot
be made in a benchmark run); what the projection costs shows in `rebuild`."""

from __future__ import annotations

import statistics
import time
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import httpx
from sqlalchemy import insert

from bench.context import Run
from bench.databases import scratch
from bench.report import Figure, bigger, on_sqlite
from bench.serving import bench_server
from infrastructure.database import DatabaseUrl, make_engine
from infrastructure.migrate import upgrade
from infrastructure.readmodels.tables import projection_tables

ACCOUNTS = 10
DAY = datetime(2026, 11, 27, tzinfo=UTC)
TOTALS = (
    "currency realizedPnl unrealizedPnl totalPnl commissionPaid todayPnl grossExposure "
    "netExposure openPositions asOf"
)
ACCOUNT = '{ account(id: "A03") { id asOf totals { ' + TOTALS + " } } }"
HISTORY = (
    '{ pnlHistory(account: "A03", from: "2026-11-27T00:00:00Z", to: "2026-11-28T00:00:00Z", '
    "interval: %s) { account currency start open high low close asOf } }"
)
FLOOR = "{ __typename }"
INGEST = "mutation($q: [QuoteInput!]!) { ingestQuotes(quotes: $q) { sequence } }"
WAIT = "query($n: Int) { accounts(minSequence: $n) { id } }"
TARGET_P50_MS = 10.0


def day_of_bars(url: str, minutes: int) -> None:
    """`minutes` 1-minute bars and a totals row for each of 10 accounts, in USD."""
    upgrade(url)
    engine = make_engine(DatabaseUrl(url))
    tables = projection_tables("a")
    accounts, bars = [], []
    for a in range(ACCOUNTS):
        total = Decimal(0)
        for m in range(minutes):
            step = Decimal((m * 37 + a * 11) % 200 - 100) / 100
            bars.append({
                "account": f"A{a:02d}", "currency": "USD", "start": DAY + timedelta(minutes=m),
                "open": total, "high": max(total, total + step), "low": min(total, total + step),
                "close": total + step, "as_of": m + 1,
            })  # fmt: skip
            total += step
        accounts.append({
            "account": f"A{a:02d}", "currency": "USD", "places": 2, "realized_pnl": total,
            "unrealized_pnl": Decimal("12.5"), "commission_paid": Decimal(3),
            "gross_exposure": Decimal(25000), "net_exposure": Decimal(-1000), "open_positions": 4,
            "updated_at": DAY + timedelta(minutes=minutes), "as_of": minutes,
        })  # fmt: skip
    with engine.begin() as connection:
        connection.execute(insert(tables.pnl_bars), bars)
        connection.execute(insert(tables.accounts), accounts)
    engine.dispose()


def timings_ms(client: httpx.Client, query: str, requests: int, field: str | None) -> list[float]:
    out = []
    for i in range(requests + 10):
        started = time.perf_counter()
        body = client.post("/graphql", json={"query": query}).json()
        elapsed = time.perf_counter() - started
        if "errors" in body or (field is not None and not body["data"][field]):
            raise RuntimeError(f"{query} failed: {body}")
        if i >= 10:  # warm-up
            out.append(elapsed * 1000)
    return out


def after_each_change_ms(client: httpx.Client, query: str, requests: int) -> list[float]:
    """`query` each time after a quote moved the accounts read model (untimed), so no
    answer kept from before can be used: what a chart's first load costs."""
    out = []
    for i in range(requests):
        quote = {"instrument": "UNHELD", "last": f"{60 + i / 100:.2f}"}
        body = {"query": INGEST, "variables": {"q": [quote]}}
        sequence = client.post("/graphql", json=body).json()["data"]["ingestQuotes"]["sequence"]
        wait = {"query": WAIT, "variables": {"n": sequence}}
        deadline = time.monotonic() + 60
        while "errors" in client.post("/graphql", json=wait).json():  # a loaded machine
            if time.monotonic() > deadline:
                raise RuntimeError(f"accounts did not reach {sequence}")
        started = time.perf_counter()
        body = client.post("/graphql", json={"query": query}).json()
        out.append((time.perf_counter() - started) * 1000)
        if "errors" in body:
            raise RuntimeError(f"{query} failed: {body}")
    return out


def run(context: Run) -> list[Figure]:
    minutes = context.size(1440, 30)
    requests = context.size(300, 20)
    queries = {
        "account": (ACCOUNT, "account"),
        "pnlHistory ONE_MINUTE (1000 bars)": (HISTORY % "ONE_MINUTE", "pnlHistory"),
        "pnlHistory FIVE_MINUTES (288 bars)": (HISTORY % "FIVE_MINUTES", "pnlHistory"),
        "pnlHistory ONE_HOUR (24 bars)": (HISTORY % "ONE_HOUR", "pnlHistory"),
    }
    figures = []
    for engine in context.engines:
        with scratch(engine, context.postgres_url) as db:
            day_of_bars(db, minutes)
            with bench_server(db) as served, httpx.Client(base_url=served.http, timeout=30) as c:
                floor = timings_ms(c, FLOOR, requests, None)
                measured = {
                    name: timings_ms(c, query, requests, field)
                    for name, (query, field) in queries.items()
                }
                for name in ("account", "pnlHistory ONE_MINUTE (1000 bars)",
                             "pnlHistory ONE_HOUR (24 bars)"):  # fmt: skip
                    changed = after_each_change_ms(c, queries[name][0], context.size(60, 5))
                    measured[f"{name} after each change"] = changed
        f50 = statistics.median(floor)
        for name, times in measured.items():
            p50, p99 = statistics.median(times), statistics.quantiles(times, n=100)[98]
            figures.append(
                Figure(
                    scenario="accounts_query",
                    engine=engine,
                    figure=f"{name}, p50 (p99 {p99:.1f} ms)",
                    value=p50,
                    unit="ms",
                    **on_sqlite(engine, f"≤ {TARGET_P50_MS:.0f} ms", p50 <= TARGET_P50_MS),
                    baseline=f50,
                    baseline_label="{ __typename } ms",
                    ratio=bigger(p50, f50),
                    note=f"{ACCOUNTS} accounts x {minutes} 1-minute bars; {requests} requests",
                )
            )
    return figures
