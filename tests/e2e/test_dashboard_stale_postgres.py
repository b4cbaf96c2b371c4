"""The dashboard's STALE banner follows the projections: one `tradestate worker` runs
them on PostgreSQL and one `tradestate serve` (its runners standing by) serves the page.
SIGSTOP the worker while quotes keep arriving: the banner appears, naming the projections
behind; SIGCONT: it clears by itself."""

from __future__ import annotations

import os
import signal
import threading
from pathlib import Path

import pytest

from tests.e2e.browser import chromium_browser, offline_page, require_dashboard, serve
from tests.e2e.server import ROOT, Server, free_port
from tests.e2e.test_multiserver_postgres import LOCKS, start_worker, wait_for_locks
from tests.integration.conftest import fresh_postgres_database

pytestmark = [pytest.mark.e2e, pytest.mark.postgres, pytest.mark.slow]

INGEST = "mutation($q: [QuoteInput!]!) { ingestQuotes(quotes: $q) { sequence } }"


def feed_quotes(server: Server, stop: threading.Event) -> None:
    price = 100
    while not stop.is_set():
        price += 1
        server.data(INGEST, {"q": [{"instrument": "STALE", "last": str(price)}]})
        stop.wait(0.2)


def test_stale_banner_appears_while_the_worker_is_stopped_and_clears_after(
    postgres_url: str, tmp_path: Path
) -> None:
    require_dashboard()
    with fresh_postgres_database(postgres_url) as url:
        worker = start_worker(url)
        try:
            wait_for_locks(url, LOCKS)  # the worker runs every projection and policy
            with (
                serve(tmp_path, free_port(), url, stale_after_seconds="1") as server,
                chromium_browser() as browser,
            ):
                page, refused = offline_page(browser)
                page.goto(f"{server.http}/dashboard")
                page.wait_for_selector("#connection.up")
                page.wait_for_selector("#lag tbody tr")
                assert page.locator("#stale").count() == 0

                stop = threading.Event()
                feeder = threading.Thread(target=feed_quotes, args=(server, stop), daemon=True)
                feeder.start()
                os.kill(worker.pid, signal.SIGSTOP)
                try:
                    page.wait_for_selector("#stale", timeout=20_000)
                    banner = page.inner_text("#stale")
                    assert "STALE" in banner and "events behind" in banner, banner
                    shots = ROOT / "test-artifacts" / "dashboard"
                    shots.mkdir(parents=True, exist_ok=True)
                    page.screenshot(path=str(shots / "stale-projections.png"))
                finally:
                    os.kill(worker.pid, signal.SIGCONT)
                page.wait_for_selector("#stale", state="detached", timeout=30_000)
                stop.set()
                feeder.join(timeout=10)
                assert page.locator("#connection.up").count() == 1
                assert refused == []
        finally:
            if worker.poll() is None:
                worker.kill()
            worker.wait(timeout=10)
