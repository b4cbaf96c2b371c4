"""Run the benchmark suite and print one table (SPEC §10).

    python -m bench [--postgres URL] [--smoke] [--only NAME ...] [--json PATH]
    python -m bench --only scale     # 10 k, 100 k and 1 M events (slow; not by default)

Every figure is measured against a baseline in the same run; `ratio` is how
many times worse than that baseline the figure is. --smoke runs tiny sizes
(it checks the suite works, not the targets). Exits 1 when a scenario failed
to produce its figures; a missed target is reported, not an error.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
import traceback
from collections.abc import Callable
from pathlib import Path

from bench import (
    accounts_cost,
    accounts_query,
    command_path,
    fanout,
    positions_query,
    quote_ingest,
    rebuild,
    scale,
    transparency,
)
from bench.context import Run
from bench.report import Figure, print_table, write_json

SCENARIOS: dict[str, Callable[[Run], list[Figure]]] = {
    "command_path": command_path.run,
    "quote_ingest": quote_ingest.run,
    "rebuild": rebuild.run,
    "fanout": fanout.run,
    "positions_query": positions_query.run,
    "accounts_query": accounts_query.run,
    "accounts_cost": accounts_cost.run,
    "transparency": transparency.run,
    "scale": scale.run,
}
# `scale` builds and measures stores up to 1 M events (tens of minutes): by --only.
DEFAULT_RUN = [name for name in SCENARIOS if name != "scale"]
DEFAULT_JSON = Path(__file__).with_name("results.json")
DEFAULT_CACHE = Path(tempfile.gettempdir()) / "tradestate-bench"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.splitlines()[0])
    parser.add_argument("--postgres", metavar="URL", help="Also run against this PostgreSQL.")
    parser.add_argument("--smoke", action="store_true", help="Tiny sizes: check the suite runs.")
    names = ", ".join(SCENARIOS)
    parser.add_argument("--only", action="append", choices=list(SCENARIOS), metavar="NAME",
                        help=f"Run only this scenario (repeatable): {names}.")  # fmt: skip
    parser.add_argument("--json", type=Path, default=DEFAULT_JSON, help="Write results here.")
    parser.add_argument("--cache-dir", type=Path, default=DEFAULT_CACHE,
                        help="Where generated stores are kept between runs.")  # fmt: skip
    args = parser.parse_args(argv)
    context = Run(smoke=args.smoke, postgres_url=args.postgres, cache_dir=args.cache_dir)
    figures: list[Figure] = []
    seconds: dict[str, float] = {}
    failed = []
    for name in args.only or DEFAULT_RUN:
        print(f"running {name} …", file=sys.stderr, flush=True)
        started = time.perf_counter()
        try:
            figures += SCENARIOS[name](context)
        except Exception as error:
            traceback.print_exc()
            failed.append(name)
            figures.append(Figure(name, "—", "error", float("nan"), "", passed=False,
                                  note=f"{type(error).__name__}: {error}"[:500]))  # fmt: skip
        seconds[name] = round(time.perf_counter() - started, 1)
    title = "tradestate benchmarks" + (" (smoke sizes: not comparable to targets)" * args.smoke)
    print_table(figures, title)
    write_json(args.json, figures, smoke=args.smoke, seconds=seconds, failed=failed)
    print(f"results written to {args.json}; seconds per scenario: {seconds}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
