"""The transparency log (SPEC 8, §10): what it costs and how fast an auditor works.

- command path with the tree's follower running against the same commands with
  nothing following the log (alternating rounds on fresh stores, medians);
- building the tree from a large log (`db upgrade` of an old store) against
  reading that log alone;
- the integrity part of `audit verify` (every event against its leaf, heads)
  against reading the log alone;
- `audit prove` (proof from the database) and `check-proof` (offline, with the
  Ed25519 signature), in process: a CLI process's start-up alone costs more.
"""

from __future__ import annotations

import random
import shutil
import statistics
import tempfile
import time
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from bench.command_path import measure_commands
from bench.context import Run
from bench.databases import scratch
from bench.report import Figure, slower
from bench.store import cached_sqlite_store
from infrastructure.eventstore import WakeOnCommit
from infrastructure.settings import load_settings
from infrastructure.transparency.heads import HeadSigner
from infrastructure.transparency.proofs import check_proof, inclusion_proof
from infrastructure.transparency.verify import Integrity, fixed_head, run_integrity
from interfaces.composition import build_system

PAGE = 5000


def _commands(url: str, orders: int, follow: bool) -> float:
    if not follow:
        return measure_commands(url, orders)[0]
    system = build_system(load_settings(database_url=url))
    follower = system.projections.companions[0]
    recorder = system.app.recorder
    assert isinstance(recorder, WakeOnCommit)  # the store's recorders all are
    recorder.add_waiter(follower.wake)
    follower.start()
    try:
        return measure_commands(url, orders)[0]
    finally:
        follower.stop()
        system.close()


def command_path(context: Run, engine: str) -> Figure:
    orders = context.size(1500 if engine == "sqlite" else 600, 30)
    ours, base = [], []
    for _ in range(context.size(3, 1)):
        with scratch(engine, context.postgres_url) as url:
            ours.append(_commands(url, orders, follow=True))
        with scratch(engine, context.postgres_url) as url:
            base.append(_commands(url, orders, follow=False))
    value, baseline = statistics.median(ours), statistics.median(base)
    ratio = slower(value, baseline)
    return Figure(
        "transparency", engine, "command path, follower on", value, "cmd/s",
        target="≤ 10 % slower (ratio ≤ 1.10)", baseline=baseline,
        baseline_label="same, no follower", ratio=ratio, passed=ratio <= 1.10,
        note=f"{2 * orders} commands/round; ours {[round(r) for r in ours]}, "
        f"without {[round(b) for b in base]}",
    )  # fmt: skip


def _read_log(recorder: object, head: int) -> float:
    """The baseline: eventsourcing reading the notification log (no decoding)."""
    started, start = time.perf_counter(), 0
    while start < head:
        page = recorder.select_notifications(start, PAGE, inclusive_of_start=False)  # type: ignore[attr-defined]
        if not page:
            break
        start = page[-1].id
    return head / (time.perf_counter() - started)


def large_store(context: Run, size: int) -> list[Figure]:
    """Build the tree over a copy of a cached store, then time verify, prove, check."""
    cached, _ = cached_sqlite_store(context.cache_dir / "transparency", size)
    with tempfile.TemporaryDirectory(prefix="tradestate-bench-tl-") as directory:
        path = Path(directory) / "store.db"
        shutil.copy(cached.removeprefix("sqlite:///"), path)
        url = f"sqlite:///{path}"
        system = build_system(load_settings(database_url=url))
        try:
            return _measure(system, size)
        finally:
            system.close()


def _measure(system: object, size: int) -> list[Figure]:
    recorder, engine = system.app.recorder, system.engine  # type: ignore[attr-defined]
    appender = system.transparency  # type: ignore[attr-defined]
    appender.signer = HeadSigner(Ed25519PrivateKey.generate())
    appender.page = PAGE
    head = recorder.max_notification_id()
    reading = _read_log(recorder, head)
    started, cpu = time.perf_counter(), time.process_time()
    appender.catch_up()
    appender.write_head()
    building = head / (time.perf_counter() - started)
    building_cpu = head / (time.process_time() - cpu)
    with engine.connect() as connection:
        started, cpu = time.perf_counter(), time.process_time()
        integrity = run_integrity(Integrity(connection, fixed_head(connection)), engine, system.url)  # type: ignore[attr-defined]
        verifying = head / (time.perf_counter() - started)
        verifying_cpu = head / (time.process_time() - cpu)
        assert integrity.failure is None, integrity.failure
        sequences = random.Random(7).sample(range(1, head + 1), 50)
        proofs, proving = [], []
        for sequence in sequences:
            started = time.perf_counter()
            proofs.append(inclusion_proof(connection, recorder, sequence))
            proving.append(time.perf_counter() - started)
    public = appender.signer.private_key.public_key()
    checking = []
    for proof in proofs:
        started = time.perf_counter()
        assert check_proof(proof, public) == []
        checking.append(time.perf_counter() - started)
    prove_ms = statistics.median(proving) * 1000
    check_ms = statistics.median(checking) * 1000
    at = f"{head:,} events"
    return [
        Figure("transparency", "sqlite", "tree build (upgrade)", building, "events/s",
               baseline=reading, baseline_label="log read/s", ratio=slower(building, reading),
               note=f"{at}; leaves + nodes + signed heads, pages of {PAGE}; "
               f"{building_cpu:,.0f}/s of CPU time"),
        Figure("transparency", "sqlite", "verify integrity part", verifying, "events/s",
               target="≥ 200,000/s", baseline=reading, baseline_label="log read/s",
               ratio=slower(verifying, reading), passed=verifying >= 200_000,
               note=f"{at}: every event against its leaf, roots, stored nodes; "
               f"{verifying_cpu:,.0f}/s of CPU time"),
        Figure("transparency", "sqlite", "audit prove (in process)", prove_ms, "ms",
               target="≤ 20 ms", passed=prove_ms <= 20,
               note=f"{at}; median of 50 random sequences, max {max(proving) * 1000:.1f} ms"),
        Figure("transparency", "sqlite", "check-proof (in process)", check_ms, "ms",
               target="≤ 5 ms", passed=check_ms <= 5,
               note=f"median of 50, Ed25519 signature included; max {max(checking) * 1000:.2f} ms"),
    ]  # fmt: skip


def run(context: Run) -> list[Figure]:
    figures = [command_path(context, engine) for engine in context.engines]
    return figures + large_store(context, context.size(1_000_000, 5_000))
