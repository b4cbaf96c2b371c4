"""The dashboard under load (SPEC section 10): the demo with 50 instruments at 20 quotes/s
each (1 000 quotes/s) for 60 s, the page open at 1366x768 in Debian's chromium. Through
the Chrome DevTools Protocol (Performance.getMetrics): the page's main thread must be busy
less than 30 % of the time and its JS heap (after a forced collection at both ends) must
grow by less than 20 MB. The figures are printed and written to
test-artifacts/dashboard/load.json (BENCHMARKS.md quotes them).
TRADESTATE_DASHBOARD_SOAK_SECONDS shortens the window for a quick look."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.browser import chromium_browser, offline_page, require_dashboard, serve
from tests.e2e.server import ROOT, free_port

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

INSTRUMENTS = [f"SYM{i:02d}" for i in range(50)]
TICK_SECONDS = 0.05  # 20 quotes/s per instrument
SOAK_SECONDS = float(os.environ.get("TRADESTATE_DASHBOARD_SOAK_SECONDS", "60"))
# The built-in strategy cannot keep up with 1 000 quotes/s on a shared 2-core machine (the
# feed then runs at ~200/s); the load is the quote stream, so by default it runs without.
STRATEGY = os.environ.get("TRADESTATE_DASHBOARD_SOAK_STRATEGY", "none")
MB = 1024 * 1024


def metrics(cdp: Any) -> dict[str, float]:
    cdp.send("HeapProfiler.collectGarbage")
    found = cdp.send("Performance.getMetrics")["metrics"]
    return {m["name"]: m["value"] for m in found}


def quotes_ingested(server: Any, after: int) -> tuple[int, int]:
    """(quotes, head): quotes in the QuotesIngested events after `after`."""
    count, head = 0, after
    while True:
        page = server.data(
            'query($a: Int!) { events(after: $a, limit: 1000, types: ["QuotesIngested"]) '
            "{ events { sequence data } headSequence } }",
            {"a": head},
        )["events"]
        for event in page["events"]:
            count += len(event["data"].get("quotes", []))
            head = event["sequence"]
        if len(page["events"]) < 1000:
            return count, head


def test_dashboard_main_thread_and_heap_under_1000_quotes_per_second(tmp_path: Path) -> None:
    require_dashboard()
    port = free_port()
    with (
        serve(
            tmp_path,
            port,
            f"sqlite:///{tmp_path / 'load.db'}",
            "--demo",
            engine_instruments=json.dumps(INSTRUMENTS),
            engine_tick_interval_seconds=str(TICK_SECONDS),
            engine_strategy=STRATEGY,
        ) as server,
        chromium_browser() as browser,
    ):
        page, refused = offline_page(browser)
        page.goto(f"{server.http}/dashboard")
        page.wait_for_function(
            "() => document.querySelectorAll('#market tbody tr').length === 50", timeout=30_000
        )
        time.sleep(5)  # warm up: first renders, chart, caches
        cdp = page.context.new_cdp_session(page)
        cdp.send("Performance.enable", {"timeDomain": "threadTicks"})
        _, head = quotes_ingested(server, server.head())
        messages0 = page.evaluate("window.tradestate.model.messages")
        before, started = metrics(cdp), time.monotonic()
        time.sleep(SOAK_SECONDS)
        after, elapsed = metrics(cdp), time.monotonic() - started
        messages = page.evaluate("window.tradestate.model.messages") - messages0
        quotes, _ = quotes_ingested(server, head)
        assert page.locator("#connection.up").count() == 1
        assert refused == []

    busy = (after["TaskDuration"] - before["TaskDuration"]) / elapsed
    heap_growth = after["JSHeapUsedSize"] - before["JSHeapUsedSize"]
    figures = {
        "seconds": round(elapsed, 1),
        "instruments": len(INSTRUMENTS),
        "strategy": STRATEGY,
        "quotes_per_second_ingested": round(quotes / elapsed),
        "messages_per_second_received": round(messages / elapsed, 1),
        "main_thread_busy_percent": round(busy * 100, 1),
        "script_seconds": round(after["ScriptDuration"] - before["ScriptDuration"], 2),
        "layout_seconds": round(after["LayoutDuration"] - before["LayoutDuration"], 2),
        "js_heap_growth_mb": round(heap_growth / MB, 2),
        "js_heap_used_mb": round(after["JSHeapUsedSize"] / MB, 2),
    }
    out = ROOT / "test-artifacts" / "dashboard"
    out.mkdir(parents=True, exist_ok=True)
    (out / "load.json").write_text(json.dumps(figures, indent=2) + "\n")
    print(f"dashboard under load: {figures}")
    assert quotes / elapsed > 500, f"the demo fed too few quotes to measure: {figures}"
    # quotes(throttleMs: 250): at most 4 per instrument per second, whatever the feed does
    assert messages / elapsed < len(INSTRUMENTS) * 4 * 1.25, figures
    assert busy < 0.30, figures
    assert heap_growth < 20 * MB, figures
