"""Export and verify a 200 000-event SQLite store with the real console script.

    python -m bench.cli_scale [--events 200000] [--keep DIR]

Builds the store through the application's commands (order + fill, ~4 events
per pair, 20 instruments), catches the read models up with a rebuild, then
times `tradestate events export` and `tradestate audit verify` in
subprocesses, against reading the notification log alone (bench/rebuild.py)
in the same run. Not part of `python -m bench`.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
import time
from decimal import Decimal as D
from pathlib import Path

from application.inputs import FillInput, OrderInput
from bench.rebuild import read_log
from infrastructure.projections.rebuild import rebuild
from infrastructure.settings import load_settings
from interfaces.composition import build_system

INSTRUMENTS = [f"SYM{i:02d}" for i in range(20)]


def populate(url: str, events: int) -> int:
    system = build_system(load_settings(database_url=url))
    app = system.commands
    n = 0
    while app.store.head_sequence() < events:
        side = "BUY" if (n // len(INSTRUMENTS)) % 2 == 0 else "SELL"
        order = app.orders.place_order(
            OrderInput(
                client_order_id=f"o{n}",
                instrument=INSTRUMENTS[n % len(INSTRUMENTS)],
                side=side,
                quantity=D(5),
            )  # fmt: skip
        ).order
        app.orders.record_fill(FillInput(order_id=order.id, fill_id=f"f{n}", quantity=D(5),
                                  price=D("100.25") + D(n % 50)))  # fmt: skip
        n += 1
    head = app.store.head_sequence()
    system.close()
    return head


def catch_up(url: str) -> float:
    system = build_system(load_settings(database_url=url))
    started = time.perf_counter()
    rebuild(system.engine, system.app.recorder, system.app.mapper)
    elapsed = time.perf_counter() - started
    system.close()
    return elapsed


def timed(*args: str) -> float:
    script = shutil.which("tradestate") or str(Path(sys.executable).parent / "tradestate")
    started = time.perf_counter()
    result = subprocess.run([script, *args], capture_output=True, text=True)
    elapsed = time.perf_counter() - started
    if result.returncode != 0:
        raise SystemExit(f"tradestate {' '.join(args)} failed:\n{result.stdout}{result.stderr}")
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=200_000)
    parser.add_argument("--keep", type=Path, help="Keep the store in this directory.")
    args = parser.parse_args()
    directory = args.keep or Path(tempfile.mkdtemp(prefix="tradestate-cli-scale-"))
    directory.mkdir(parents=True, exist_ok=True)
    url = f"sqlite:///{directory / 'scale.db'}"
    started = time.perf_counter()
    head = populate(url, args.events)
    print(f"populated {head} events in {time.perf_counter() - started:.1f} s", file=sys.stderr)
    rebuilt = catch_up(url)
    baseline = read_log(url)["seconds"]
    export = timed("events", "export", "-o", str(directory / "log.jsonl"), "--db", url)
    verify = timed("audit", "verify", "--db", url)
    with open(directory / "log.jsonl", encoding="utf-8") as exported:
        lines = sum(1 for _ in exported)
    assert lines == head, f"exported {lines} of {head} events"
    rows = [
        ("read + decode the log (baseline)", baseline),
        ("rebuild all projections (in process)", rebuilt),
        ("tradestate events export -o FILE", export),
        ("tradestate audit verify", verify),
    ]
    print(f"\n{head} events on SQLite ({directory})")
    print(f"{'what':40} {'seconds':>8} {'events/s':>10} {'× baseline':>10}")
    for what, seconds in rows:
        print(f"{what:40} {seconds:8.2f} {head / seconds:10.0f} {seconds / baseline:10.1f}")
    if args.keep is None:
        shutil.rmtree(directory)


if __name__ == "__main__":
    main()
