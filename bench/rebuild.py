"""Projection rebuild: every projection rebuilt from the whole log, events/s and
the peak RSS of the process doing it, against reading and decoding the log alone.

Each side runs in a child process (`python -m bench.rebuild rebuild|read URL`)
so its peak RSS (VmHWM) is its own. SQLite uses a cached store (bench/store.py);
PostgreSQL a scratch database filled the same way.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from typing import Any

from bench.context import Run
from bench.databases import scratch_postgres
from bench.report import Figure, bigger, on_sqlite, slower
from bench.store import cached_sqlite_store, populate
from infrastructure.projections.rebuild import rebuild
from infrastructure.settings import load_settings
from interfaces.composition import build_system

TARGET_RATE = 20_000.0
TARGET_RSS_MB = 300.0
PAGE = 5000


def rebuild_all(url: str) -> dict[str, Any]:
    system = build_system(load_settings(database_url=url))
    head = system.app.head_sequence()
    started, cpu = time.perf_counter(), time.process_time()
    rebuild(system.engine, system.app.recorder, system.app.mapper)
    elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu
    system.close()
    return {"events": head, "seconds": elapsed, "cpu_seconds": cpu}


def read_log(url: str) -> dict[str, Any]:
    system = build_system(load_settings(database_url=url))
    recorder, mapper, start, events = system.app.recorder, system.app.mapper, 0, 0
    started, cpu = time.perf_counter(), time.process_time()
    while page := recorder.select_notifications(start, PAGE, inclusive_of_start=False):
        for notification in page:
            mapper.to_domain_event(notification)
        events += len(page)
        start = page[-1].id
    elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu
    system.close()
    return {"events": events, "seconds": elapsed, "cpu_seconds": cpu}


def in_child(what: str, url: str) -> dict[str, Any]:
    result = subprocess.run(
        [sys.executable, "-m", "bench.rebuild", what, url], capture_output=True, text=True
    )
    if result.returncode != 0:
        raise RuntimeError(f"bench.rebuild {what} failed:\n{result.stderr[-3000:]}")
    return json.loads(result.stdout.splitlines()[-1])


def measure(url: str) -> tuple[dict[str, Any], dict[str, Any]]:
    return in_child("rebuild", url), in_child("read", url)


def figures_for(engine: str, ours: dict[str, Any], base: dict[str, Any], note: str) -> list[Figure]:
    rss, base_rss = ours["max_rss_kb"] / 1024, base["max_rss_kb"] / 1024
    return [
        rate_figure(
            engine, ours, base, "seconds", f"all projections, {ours['events']:,} events", note
        ),
        # On a loaded machine wall time measures the load; CPU time measures the work.
        rate_figure(engine, ours, base, "cpu_seconds", "the same, per CPU second"),
        Figure(
            scenario="rebuild",
            engine=engine,
            figure="peak RSS",
            value=rss,
            unit="MB",
            **on_sqlite(engine, f"≤ {TARGET_RSS_MB:.0f} MB", rss <= TARGET_RSS_MB),
            baseline=base_rss,
            baseline_label="reader's MB",
            ratio=bigger(rss, base_rss),
        ),
    ]


def rate_figure(
    engine: str, ours: dict[str, Any], base: dict[str, Any], clock: str, label: str, note: str = ""
) -> Figure:
    """Events per second of `clock` (wall `seconds` or `cpu_seconds`) against the reader's."""
    rate, base_rate = ours["events"] / ours[clock], base["events"] / base[clock]
    per = "CPU s" if clock == "cpu_seconds" else "s"
    return Figure(
        scenario="rebuild",
        engine=engine,
        figure=label,
        value=rate,
        unit=f"events/{per}",
        **on_sqlite(engine, f"≥ {TARGET_RATE:,.0f}/{per}", rate >= TARGET_RATE),
        baseline=base_rate,
        baseline_label=f"read+decode log ev/{per}",
        ratio=slower(rate, base_rate),
        note=note,
    )


def run(context: Run) -> list[Figure]:
    figures = []
    events = context.size(1_000_000, 5_000)
    url, made = cached_sqlite_store(context.cache_dir / "rebuild", events)
    note = f"store made in {made:.0f} s" if made else "cached store"
    figures += figures_for("sqlite", *measure(url), note)
    if context.postgres_url:
        with scratch_postgres(context.postgres_url) as pg:
            populate(pg, context.size(200_000, 5_000))
            figures += figures_for("postgres", *measure(pg), "")
    return figures


def peak_rss_kb() -> int:
    """This process's peak RSS. Not getrusage's ru_maxrss: on Linux that survives
    fork + exec, so a child starts with its parent's peak."""
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    raise RuntimeError("no VmHWM in /proc/self/status")


def main() -> None:
    what, url = sys.argv[1], sys.argv[2]
    result = (rebuild_all if what == "rebuild" else read_log)(url)
    result["max_rss_kb"] = peak_rss_kb()
    print(json.dumps(result))


if __name__ == "__main__":
    main()
