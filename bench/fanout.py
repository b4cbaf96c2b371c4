"""Subscription fan-out: many graphql-transport-ws clients holding the same
`events` subscription on a real server while events are produced at a steady
rate; against a plain WebSocket broadcast of the same payload from the same
server process (bench/server.py).

Figures: throughput (messages delivered per second, against the offered
clients × 100/s: a saturated server answers the producer slowly, and ticks
are then skipped rather than queued), delivered / produced, p50 and p99
publish-to-receive latency (the payload's `timestamp` is when the server
made the event; client and server share the machine's clock), and server
CPU per delivered message (from /proc/<pid>/stat around the phase).

Events are produced the same way in both phases (`POST /bench/publish`: one
quote event appended through the application, as `ingestQuotes` does, and the
same event sent to the plain sockets when there are any), so both phases pay
the same production cost and the server is woken in-process as in production.
The GraphQL clients hold the same `events { sequence type timestamp }`
subscription, which the server runs once for all of them. Clients are a few
processes, each running many asyncio connections.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import statistics
import time
from dataclasses import dataclass
from typing import Any

import httpx

from bench.context import Run
from bench.databases import scratch
from bench.fanout_clients import DRAIN_SECONDS, client_process
from bench.report import Figure, bigger, on_sqlite, slower
from bench.serving import Served, bench_server

RATE = 100
MAX_P99_MS = 100.0
MAX_CPU_RATIO = 1.5
MAX_IN_FLIGHT = 100


@dataclass
class Production:
    last: int
    seconds: float
    skipped: int
    failed: int


@dataclass
class Phase:
    clients: int
    produced: int
    delivered: int
    latencies: list[float]
    cpu: float
    client_cpu: float
    errors: list[str]
    production: Production
    seconds: float

    @property
    def throughput(self) -> float:
        """Messages delivered per second, from the first event sent to the last received
        (the same clock: client processes share the machine's)."""
        return self.delivered / self.seconds if self.seconds else 0.0

    @property
    def expected(self) -> int:
        return self.clients * self.produced

    def percentile_ms(self, q: int) -> float:
        if len(self.latencies) < 2:
            return float("nan")
        return statistics.quantiles(self.latencies, n=100)[q - 1] * 1000

    @property
    def cpu_per_message_us(self) -> float:
        return self.cpu / self.delivered * 1e6 if self.delivered else float("inf")


async def _produce(served: Served, graphql: bool, count: int) -> Production:
    """Send `count` events at RATE/s, each request on its own task so a slow answer
    does not slow the rate; a tick is skipped when MAX_IN_FLIGHT requests are
    still unanswered (the server is behind), so the backlog stays bounded."""
    limits = httpx.Limits(max_connections=MAX_IN_FLIGHT)
    async with httpx.AsyncClient(base_url=served.http, timeout=120, limits=limits) as client:
        in_flight = 0

        async def one(i: int) -> int | None:
            nonlocal in_flight
            in_flight += 1
            try:
                # The same producer in both phases (bench/server.py: Broadcast.publish).
                return int((await client.post("/bench/publish")).json()["sequence"])
            except (httpx.HTTPError, KeyError, TypeError, ValueError):
                return None
            finally:
                in_flight -= 1

        started = time.monotonic()
        tasks, skipped = [], 0
        for i in range(count):
            await asyncio.sleep(max(0.0, started + i / RATE - time.monotonic()))
            if in_flight >= MAX_IN_FLIGHT:
                skipped += 1
                continue
            tasks.append(asyncio.create_task(one(i)))
        sequences = [s for s in await asyncio.gather(*tasks) if s is not None]
        return Production(
            last=max(sequences, default=0),
            seconds=time.monotonic() - started,
            skipped=skipped,
            failed=len(tasks) - len(sequences),
        )


def _head(served: Served) -> int:
    answer = httpx.post(
        f"{served.http}/graphql", json={"query": "{ systemStatus { headSequence } }"}, timeout=30
    ).json()
    return int(answer["data"]["systemStatus"]["headSequence"])


def _wait_for_broadcast_subscribers(served: Served, n: int) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if httpx.get(f"{served.http}/bench/subscribers").json()["subscribers"] >= n:
            return
        time.sleep(0.1)
    raise RuntimeError(f"fewer than {n} broadcast subscribers registered")


def phase(
    served: Served, graphql: bool, clients: int, processes: int, seconds: float, settle: float
) -> Phase:
    ctx = multiprocessing.get_context("fork")  # nothing to import again
    after = _head(served)  # both phases produce store sequences
    url = f"{served.ws}/graphql" if graphql else f"{served.ws}/bench/broadcast"
    last = ctx.Value("q", 0, lock=False)
    ready, results = ctx.Queue(), ctx.Queue()
    shares = [clients // processes + (i < clients % processes) for i in range(processes)]
    workers = [
        ctx.Process(target=client_process, args=(url, graphql, n, after, last, ready, results))
        for n in shares
        if n
    ]
    for worker in workers:
        worker.start()
    try:
        opened = sum(ready.get(timeout=120) for _ in workers)
        if not graphql:
            _wait_for_broadcast_subscribers(served, opened)
        time.sleep(settle)
        cpu, started = served.cpu_seconds(), time.time()
        production = asyncio.run(_produce(served, graphql, int(RATE * seconds)))
        last.value = production.last or after + 1
        outcomes = [results.get(timeout=DRAIN_SECONDS + 60) for _ in workers]
        cpu = served.cpu_seconds() - cpu
    finally:
        for worker in workers:
            worker.join(timeout=10)
            if worker.is_alive():
                worker.kill()
    produced = max(0, production.last - after)
    return Phase(
        clients=clients,
        produced=produced,
        delivered=sum(o[1] for o in outcomes),
        latencies=[x for o in outcomes for x in o[0]],
        cpu=cpu,
        client_cpu=sum(o[4] for o in outcomes),
        errors=[e for o in outcomes for e in o[2]],
        production=production,
        seconds=max(o[3] for o in outcomes) - started,
    )


def production_cpu(served: Served, seconds: float) -> float:
    """Server CPU per event produced with no subscriber (the mutation, its commit
    and the projections): the part of the GraphQL phase's CPU that is not fan-out."""
    before, head = served.cpu_seconds(), _head(served)
    last = asyncio.run(_produce(served, True, int(RATE * seconds))).last
    time.sleep(0.5)
    return (served.cpu_seconds() - before) / max(1, last - head)


def produced(phase: Phase) -> str:
    p = phase.production
    return (
        f"{phase.produced} events in {p.seconds:.1f} s ({phase.produced / p.seconds:.0f}/s; "
        f"{p.skipped} ticks skipped with {MAX_IN_FLIGHT} requests waiting, {p.failed} failed)"
    )


def figures_for(engine: str, ours: Phase, base: Phase, produce_cpu: float) -> list[Figure]:
    common: dict[str, Any] = {"scenario": "fanout", "engine": engine}
    errors = f"; {len(ours.errors)} errors, first: {ours.errors[0][:200]}" if ours.errors else ""
    p99 = ours.percentile_ms(99)
    cpu_ratio = bigger(ours.cpu_per_message_us, base.cpu_per_message_us)
    offered = ours.clients * RATE
    return [
        Figure(
            **common,
            figure=f"throughput, {ours.clients} clients × {RATE} events/s",
            value=ours.throughput,
            unit="msg/s",
            **on_sqlite(engine, f"≥ {offered:,} msg/s", ours.throughput >= 0.95 * offered),
            baseline=base.throughput,
            baseline_label="broadcast msg/s",
            ratio=slower(ours.throughput, base.throughput),
            note=f"GraphQL: {produced(ours)}; broadcast: {produced(base)}",
        ),
        Figure(
            **common,
            figure="delivered of produced",
            value=ours.delivered / max(1, ours.expected) * 100,
            unit="%",
            **on_sqlite(engine, "100 %", ours.delivered == ours.expected and ours.produced > 0),
            baseline=base.delivered / max(1, base.expected) * 100,
            baseline_label="broadcast %",
            note=f"{ours.delivered}/{ours.expected} messages{errors}",
        ),
        Figure(
            **common,
            figure="p50 latency",
            value=ours.percentile_ms(50),
            unit="ms",
            baseline=base.percentile_ms(50),
            baseline_label="broadcast ms",
            ratio=bigger(ours.percentile_ms(50), base.percentile_ms(50)),
        ),
        Figure(
            **common,
            figure="p99 latency",
            value=p99,
            unit="ms",
            **on_sqlite(engine, f"≤ {MAX_P99_MS:.0f} ms", p99 <= MAX_P99_MS),
            baseline=base.percentile_ms(99),
            baseline_label="broadcast ms",
            ratio=bigger(p99, base.percentile_ms(99)),
        ),
        Figure(
            **common,
            figure="server CPU per message",
            value=ours.cpu_per_message_us,
            unit="µs",
            **on_sqlite(engine, f"ratio ≤ {MAX_CPU_RATIO}", cpu_ratio <= MAX_CPU_RATIO),
            baseline=base.cpu_per_message_us,
            baseline_label="broadcast µs",
            ratio=cpu_ratio,
            note=f"of which producing the events (no subscriber): "
            f"{produce_cpu / ours.clients * 1e6:.1f} µs per message; the client processes "
            f"(same machine): {ours.client_cpu / max(1, ours.delivered) * 1e6:.1f} µs per message "
            f"(broadcast: {base.client_cpu / max(1, base.delivered) * 1e6:.1f})",
        ),
    ]


def run(context: Run) -> list[Figure]:
    clients = context.size(500, 20)
    processes = context.size(4, 2)
    seconds = context.size(10.0, 1.0)
    settle = context.size(1.0, 0.2)
    figures = []
    for engine in context.engines:
        with scratch(engine, context.postgres_url) as db, bench_server(db) as served:
            produce_cpu = production_cpu(served, context.size(5.0, 0.5))
            ours = phase(served, True, clients, processes, seconds, settle)
            base = phase(served, False, clients, processes, seconds, settle)
        figures += figures_for(engine, ours, base, produce_cpu)
    return figures
