"""`python -m bench --smoke` runs every scenario end to end and each one yields its
figures and baselines. Benchmarks are not timed tests: the targets are not checked."""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SCENARIOS = [
    "command_path",
    "quote_ingest",
    "rebuild",
    "fanout",
    "positions_query",
    "accounts_query",
]


@pytest.mark.e2e
@pytest.mark.timeout(240)
def test_every_scenario_produces_its_figures_and_baselines(tmp_path: Path) -> None:
    postgres = os.environ.get("TRADESTATE_TEST_POSTGRES_URL")
    results = tmp_path / "results.json"
    command = [sys.executable, "-m", "bench", "--smoke", "--json", str(results)]
    command += ["--cache-dir", str(tmp_path / "cache")]
    if postgres:
        command += ["--postgres", postgres]
    env = {k: v for k, v in os.environ.items() if not k.startswith("TRADESTATE_")}
    started = time.monotonic()
    run = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=230)
    elapsed = time.monotonic() - started
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-5000:]
    body = json.loads(results.read_text())
    assert body["failed"] == []
    engines = ["sqlite", "postgres"] if postgres else ["sqlite"]
    figures = body["figures"]
    for scenario in SCENARIOS:
        for engine in engines:
            mine = [f for f in figures if f["scenario"] == scenario and f["engine"] == engine]
            assert mine, f"{scenario} on {engine} produced no figure"
            for f in mine:
                assert math.isfinite(f["value"]) and f["value"] > 0, f
                assert f["baseline"] is not None and math.isfinite(f["baseline"]), f
                assert f["baseline"] > 0, f
    assert "scenario" in run.stdout and "pass/fail" in run.stdout  # the table was printed
    print(f"bench --smoke took {elapsed:.0f} s")
