"""`scale`: what each user-facing command costs at 10 k, 100 k and 1 M events (SPEC 10).

    python -m bench --only scale          (or: python -m bench.scale [--sizes 10000 ...])

Stores come from bench/scale_store.py (cached), are migrated and rebuilt once
(`db upgrade`, `replay --rebuild`, which also makes the checkpoints) and
cached as `prepared-N.db`. Each command then runs as the real console script
under GNU time (wall time and its own peak RSS). Floors, in the same run and
process-free of the CLI: reading and decoding the events a command needs
(time travel: those since its nearest checkpoint; export and verify: the whole log).
`serve` is timed from start to `/ready`, then `positions` and
`orders(instrument:)` are queried 30 times each over HTTP (p50).

With `--postgres URL` the same figures are taken on PostgreSQL: a scratch database
filled with the same mix, migrated and rebuilt (not cached).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any, cast

from bench.context import Run
from bench.report import Figure, bigger
from bench.scale_store import VERSION as STORE_VERSION
from bench.scale_store import scale_store
from infrastructure.checkpoints import EVERY
from infrastructure.checkpoints import FORMAT as CHECKPOINT_FORMAT

SIZES = (10_000, 100_000, 1_000_000)
SMOKE_SIZES = (2_000,)
RSS_MB = 200.0
TRAVEL_S = 3.0
HELP_S = 0.5
READY_S = 3.0
QUERIES = 30


def script() -> str:
    return shutil.which("tradestate") or str(Path(sys.executable).parent / "tradestate")


def timed(*args: str, output: Path | None = None) -> tuple[float, float, float]:
    """Run `tradestate ARGS` under GNU time: (wall seconds, CPU seconds, peak RSS in MB).
    CPU time (user + system) is what the command itself costs on a loaded machine."""
    sink = open(output or os.devnull, "wb")  # noqa: SIM115
    with sink:
        result = subprocess.run(
            ["/usr/bin/time", "-f", "%e %U %S %M", script(), *args],
            stdout=sink,
            stderr=subprocess.PIPE,
            text=True,
        )
    if result.returncode != 0:
        raise RuntimeError(f"tradestate {' '.join(args)} failed:\n{result.stderr[-2000:]}")
    wall, user, system, kb = result.stderr.strip().splitlines()[-1].split()
    return float(wall), float(user) + float(system), int(kb) / 1024


def prepared(cache: Path, events: int) -> tuple[str, float]:
    """A migrated, rebuilt (checkpointed) store; the rebuild's seconds (0 if cached)."""
    raw, _ = scale_store(cache, events)
    # The raw store's mix and the checkpoints' format and K are in the key: each remakes it.
    path = cache / f"prepared-v{STORE_VERSION}-c{CHECKPOINT_FORMAT}-k{EVERY}-{events}.db"
    url = f"sqlite:///{path}"
    if path.exists():
        return url, 0.0
    partial = cache / f"{path.name}.partial"
    shutil.copy(raw, partial)
    partial_url = f"sqlite:///{partial}"
    timed("db", "upgrade", "--db", partial_url)
    seconds, _, _ = timed("replay", "--rebuild", "--db", partial_url)
    shutil.move(partial, path)
    return url, seconds


def floors(url: str, until: int, since: int) -> dict[str, Any]:
    """In a child: read + decode (since, until] and the whole log; a mid event's time
    and id; an instrument with orders."""
    code = (
        "import json, sys, time\n"
        "from bench.scale import floor_child\n"
        "print(json.dumps(floor_child(sys.argv[1], int(sys.argv[2]), int(sys.argv[3]))))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code, url, str(until), str(since)],
        capture_output=True,
        text=True,
        check=True,
    )
    found: dict[str, Any] = json.loads(result.stdout.splitlines()[-1])
    return found


def floor_child(url: str, until: int, since: int) -> dict[str, Any]:
    from uuid import UUID

    from eventsourcing.domain import DomainEvent

    from infrastructure.settings import load_settings
    from interfaces.composition import build_system

    system = build_system(load_settings(database_url=url), migrate=False)
    recorder, mapper = system.app.recorder, system.app.mapper

    def read(after: int, stop: int) -> float:
        """CPU seconds: on a shared machine wall time measures the neighbours."""
        started = time.process_time()
        while after < stop:
            page = recorder.select_notifications(after, 5000, stop=stop, inclusive_of_start=False)
            if not page:
                break
            for notification in page:
                mapper.to_domain_event(notification)
            after = page[-1].id
        return time.process_time() - started

    head = recorder.max_notification_id() or 0
    worst = min(since + EVERY - 1, head)
    [middle] = recorder.select_notifications(until, 1)
    with system.engine.connect() as connection:
        from sqlalchemy import text

        instrument = connection.scalar(text("SELECT instrument FROM rm_orders_a LIMIT 1")) or (
            connection.scalar(text("SELECT instrument FROM rm_orders_b LIMIT 1"))
        )
        position = connection.scalar(text("SELECT id FROM rm_positions_a LIMIT 1")) or (
            connection.scalar(text("SELECT id FROM rm_positions_b LIMIT 1"))
        )
    found = {
        "head": head,
        "travel_floor": read(since, until),
        "tail_floor": read(head - (head % EVERY), head),
        # the farthest a point can be from its checkpoint: the one before the next
        "worst": worst,
        "worst_floor": read(since, worst),
        "log_floor": read(0, head),
        "middle_time": cast(DomainEvent, mapper.to_domain_event(middle)).timestamp.isoformat(),
        "instrument": instrument,
        "position": str(UUID(str(position))) if position else "",
    }
    system.close()
    return found


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def post(port: int, query: str) -> float:
    body = json.dumps({"query": query}).encode()
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/graphql", body, {"Content-Type": "application/json"}
    )
    started = time.perf_counter()
    with urllib.request.urlopen(request, timeout=30) as response:
        answer = json.loads(response.read())
    elapsed = time.perf_counter() - started
    if answer.get("errors"):
        raise RuntimeError(f"{query}: {answer['errors']}")
    return elapsed


def serve(url: str, instrument: str) -> dict[str, float]:
    """Start `tradestate serve`, time it to /ready, then p50 of two queries."""
    port = free_port()
    started = time.perf_counter()
    process = subprocess.Popen(
        [script(), "serve", "--db", url, "--port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/ready", timeout=5) as r:
                    if r.status == 200:
                        break
            except OSError:
                pass
            if process.poll() is not None or time.perf_counter() - started > 300:
                raise RuntimeError("serve did not become ready")
            time.sleep(0.02)
        ready = time.perf_counter() - started
        with open(f"/proc/{process.pid}/stat", encoding="ascii") as stat:
            ticks = stat.read().rsplit(")", 1)[1].split()
        cpu = (int(ticks[11]) + int(ticks[12])) / os.sysconf("SC_CLK_TCK")
        positions = "{ positions(status: OPEN) { id quantity averagePrice unrealizedPnl } }"
        orders = f'{{ orders(instrument: "{instrument}", limit: 100) {{ id status quantity }} }}'
        found = {"ready": ready, "ready_cpu": cpu}
        for name, query in (("positions", positions), ("orders", orders)):
            post(port, query)
            found[name] = statistics.median(post(port, query) for _ in range(QUERIES))
        return found
    finally:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()


def measure(cache: Path, events: int, postgres_url: str | None = None) -> list[Figure]:
    """The figures at `events` on SQLite (a cached store), or on PostgreSQL when
    `postgres_url` is given (a scratch database filled with the same mix)."""
    if postgres_url is None:
        return measure_store(*prepared(cache, events), "sqlite", cache)
    from bench.databases import scratch_postgres
    from bench.scale_store import populate

    cache.mkdir(parents=True, exist_ok=True)  # the export's file
    with scratch_postgres(postgres_url) as url:
        populate(url, events)
        timed("db", "upgrade", "--db", url)
        rebuilt, _, _ = timed("replay", "--rebuild", "--db", url)
        return measure_store(url, rebuilt, "postgres", cache)


def measure_store(url: str, rebuilt: float, engine: str, cache: Path) -> list[Figure]:
    base = floors(url, 1, 0)
    head = base["head"]
    middle = head // 2
    since = middle - middle % EVERY
    floor = floors(url, middle, since)
    size = f"{head:,} ev"
    figures: list[Figure] = []

    def add(what: str, value: float, unit: str, target: str = "—", **more: Any) -> None:
        figures.append(Figure("scale", engine, f"{size}: {what}", value, unit, target, **more))

    def cli(what: str, *args: str, floor_s: float | None = None, budget: float | None = None):
        seconds, cpu, rss = timed(*args, "--db", url)
        ratio = bigger(cpu, floor_s) if floor_s else None
        passed = (cpu <= budget) if budget else None
        add(f"{what} (CPU)", cpu, "s", f"≤ {budget} s" if budget else "—", baseline=floor_s,
            baseline_label="read+decode floor CPU s" if floor_s else "", ratio=ratio,
            passed=passed, note=f"wall {seconds:.2f} s")  # fmt: skip
        add(f"{what} peak RSS", rss, "MB", f"≤ {RSS_MB:.0f} MB", passed=rss <= RSS_MB)

    if rebuilt:
        log_floor = floor["log_floor"]
        add("replay --rebuild (+ checkpoints)", rebuilt, "s", baseline=log_floor,
            baseline_label="read+decode log s", ratio=bigger(rebuilt, log_floor))  # fmt: skip
    seconds, cpu, _ = timed("--help")
    add("tradestate --help (CPU)", cpu, "s", f"≤ {HELP_S} s", passed=cpu <= HELP_S,
        note=f"wall {seconds:.2f} s")  # fmt: skip
    cli("events list", "events", "list")
    cli("events history (a position)", "events", "history", floor["position"])
    cli("events export", "events", "export", "-o", str(cache / "export.jsonl"),
        floor_s=floor["log_floor"])  # fmt: skip
    cli("audit verify (log, decoding, read models, checkpoints)", "audit", "verify",
        floor_s=floor["log_floor"])  # fmt: skip
    cli("replay --until-sequence middle", "replay", "--until-sequence", str(middle), "--format",
        "json", floor_s=floor["travel_floor"], budget=TRAVEL_S)  # fmt: skip
    cli("replay --until-sequence just before a checkpoint", "replay", "--until-sequence",
        str(floor["worst"]), "--format", "json", floor_s=floor["worst_floor"],
        budget=TRAVEL_S)  # fmt: skip
    cli("replay --until-sequence head", "replay", "--until-sequence", str(head), "--format",
        "json", floor_s=floor["tail_floor"], budget=TRAVEL_S)  # fmt: skip
    cli("replay --until-time (middle)", "replay", "--until-time", floor["middle_time"],
        "--format", "json", floor_s=floor["travel_floor"], budget=TRAVEL_S)  # fmt: skip
    served = serve(url, floor["instrument"])
    add("serve start to /ready (CPU)", served["ready_cpu"], "s", f"≤ {READY_S} s",
        passed=served["ready_cpu"] <= READY_S, note=f"wall {served['ready']:.2f} s")  # fmt: skip
    add("positions(status: OPEN) p50", served["positions"] * 1000, "ms")
    add("orders(instrument:) p50", served["orders"] * 1000, "ms")
    (cache / "export.jsonl").unlink(missing_ok=True)
    return figures


def run(context: Run) -> list[Figure]:
    sizes = SMOKE_SIZES if context.smoke else SIZES
    figures = []
    for events in sizes:
        figures += measure(context.cache_dir / "scale", events)
    if context.postgres_url:
        for events in sizes:
            figures += measure(context.cache_dir / "scale", events, context.postgres_url)
    return figures


def main() -> None:
    from bench.report import print_table, write_json

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=list(SIZES))
    parser.add_argument("--cache-dir", type=Path, default=Path("/tmp/tradestate-bench"))
    parser.add_argument("--postgres", metavar="URL", help="On this PostgreSQL, not SQLite.")
    args = parser.parse_args()
    figures = []
    for events in args.sizes:
        figures += measure(args.cache_dir / "scale", events, args.postgres)
        print_table(figures, "scale")
        for f in figures:
            print(f"{f.figure:60} {f.value:10.3f} {f.unit:3} {f.note}", flush=True)
        write_json(args.cache_dir / "scale" / "results.json", figures)


if __name__ == "__main__":
    main()
