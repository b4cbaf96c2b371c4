"""Helpers for the dashboard's browser tests: Debian's chromium driven by Playwright for
Python, with every host but 127.0.0.1 cut off, and `tradestate serve` processes started
on a chosen port (so one can be restarted where the page expects it)."""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from tests.e2e.server import ROOT, Server, environment, serve_command, wait_until_healthy

PLACE = "mutation($o: OrderInput!) { placeOrder(input: $o) { order { id } sequence } }"
FILL = "mutation($f: FillInput!) { recordFill(input: $f) { sequence } }"
PANELS = ("totals", "pnl", "positions", "orders", "trades", "signals", "monitors", "market", "lag")


def find_chromium() -> str:
    configured = os.environ.get("TRADESTATE_CHROMIUM")
    found = shutil.which(configured) if configured else None
    for candidate in ("/usr/bin/chromium", "chromium", "chromium-browser"):
        found = found or shutil.which(candidate)
    if found is None:
        reason = "Debian's chromium not found (apt-get install chromium, or TRADESTATE_CHROMIUM)"
        if os.environ.get("CI"):
            pytest.fail(f"{reason}; CI is set, so this test must run")
        pytest.skip(reason)
    return found


def require_dashboard() -> None:
    from interfaces.dashboard import DIST_DIR, assets_available

    if not assets_available():
        pytest.fail(
            f"the dashboard is not built in {DIST_DIR}: `python -m interfaces.dashboard.build` "
            "(needs npm) or reinstall the package"
        )


@contextlib.contextmanager
def chromium_browser() -> Iterator[Any]:
    playwright_api = pytest.importorskip("playwright.sync_api")
    executable = find_chromium()
    with playwright_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=executable, args=["--no-sandbox", "--disable-dev-shm-usage"]
        )
        try:
            yield browser
        finally:
            browser.close()


def offline_page(browser: Any, width: int = 1366, height: int = 768) -> tuple[Any, list[str]]:
    """A page in a fresh context where any request not to 127.0.0.1 is aborted; the list
    collects the URLs that were tried (a page that works offline tries none)."""
    context = browser.new_context(viewport={"width": width, "height": height})
    refused: list[str] = []

    def route(route: Any) -> None:
        if urlsplit(route.request.url).hostname == "127.0.0.1":
            route.continue_()
        else:
            refused.append(route.request.url)
            route.abort()

    context.route("**/*", route)
    page = context.new_page()
    page.set_default_timeout(15_000)
    return page, refused


def panel_states(page: Any) -> dict[str, str]:
    return page.evaluate(
        "Object.fromEntries([...document.querySelectorAll('section.panel')]"
        ".map(s => [s.id, s.dataset.state]))"
    )


def trade_rows(page: Any) -> list[str]:
    return page.eval_on_selector_all(
        "#trades tr[data-fill]", "rows => rows.map(r => r.dataset.fill)"
    )


@contextlib.contextmanager
def serve(
    tmp: Path, port: int, db: str, *args: str, token: str | None = None, **settings: str
) -> Iterator[Server]:
    """`tradestate serve --port PORT --db DB ARGS` with TRADESTATE_<settings>."""
    log = tmp / f"server-{port}-{len(list(tmp.glob('server-*.log')))}.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            serve_command("--port", str(port), "--db", db, *args),
            cwd=ROOT,
            env=environment(**settings),
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    server = Server(port, db, process, log, token)
    try:
        wait_until_healthy(server)
        yield server
    finally:
        server.stop()


def buy_and_fill(server: Server, name: str, instrument: str = "DASH") -> int:
    """Place a market order and fill it through the API; the fill's sequence."""
    order = server.data(
        PLACE,
        {"o": {"clientOrderId": name, "instrument": instrument, "side": "BUY", "quantity": "2"}},
    )["placeOrder"]["order"]["id"]
    filled = server.data(
        FILL,
        {"f": {"orderId": order, "fillId": name, "quantity": "2", "price": "101.25",
               "commission": "0.5"}},
    )  # fmt: skip
    return int(filled["recordFill"]["sequence"])
