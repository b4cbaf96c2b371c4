"""The trader's dashboard in Debian's chromium (Playwright), with the network cut off but
for 127.0.0.1: it loads from a running `serve --demo` and fills every panel within 5 s; a
fill recorded through the API shows in the trade log, the position and the account totals
within a second; a
server restart turns the page STALE, and it recovers by itself with every fill exactly
once; with tokens it asks for one and refuses a wrong one. Screenshots at 1366x768 and
phone width are kept in test-artifacts/dashboard/."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.browser import (
    PANELS,
    buy_and_fill,
    chromium_browser,
    offline_page,
    panel_states,
    require_dashboard,
    serve,
    trade_rows,
)
from tests.e2e.server import ROOT, free_port

pytestmark = pytest.mark.e2e

READER = "dash-reader"
TRADER = "dash-trader"
FILLED = "#trades tr[data-fill]"
SCREENSHOTS = ROOT / "test-artifacts" / "dashboard"


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    require_dashboard()
    with chromium_browser() as launched:
        yield launched


@pytest.fixture(scope="module")
def shots() -> Path:
    """Screenshots are kept (gitignored) where the playground test keeps its own."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    return SCREENSHOTS


def wait_all_filled(page: Any, timeout: float) -> float:
    """Seconds until no panel shows its loading placeholder any more."""
    started = time.monotonic()
    page.wait_for_function(
        "() => { const p = [...document.querySelectorAll('section.panel')];"
        " return p.length >= 9 && p.every(s => s.dataset.state !== 'loading'); }",
        timeout=timeout * 1000,
    )
    return time.monotonic() - started


def test_dashboard_loads_offline_from_the_demo_and_fills_every_panel(
    browser: Any, tmp_path: Path, shots: Path
) -> None:
    port = free_port()
    with serve(tmp_path, port, f"sqlite:///{tmp_path / 'demo.db'}", "--demo") as server:
        deadline = time.monotonic() + 60
        while not server.data("{ trades(limit: 1) { fillId } }")["trades"]:
            assert time.monotonic() < deadline, "the demo recorded no fill in 60 s"
            time.sleep(0.5)
        for name, width, height in (("desktop-1366x768", 1366, 768), ("phone-390x844", 390, 844)):
            page, refused = offline_page(browser, width, height)
            started = time.monotonic()
            page.goto(f"{server.http}/")  # redirected to /dashboard
            assert page.url == f"{server.http}/dashboard"
            wait_all_filled(page, timeout=5 - (time.monotonic() - started))
            states = panel_states(page)
            assert set(states) == set(PANELS)
            assert set(states.values()) == {"ready"}, states
            for panel in ("trades", "signals", "market", "lag"):  # positions may be flat
                assert page.locator(f"#{panel} tbody tr").count() > 0, panel
            page.wait_for_selector("#connection.up")
            assert page.locator("#stale").count() == 0
            assert page.locator("#totals [data-figure=totalPnl] .num").inner_text() != ""
            assert page.locator("#pnl canvas").count() > 0
            # signed numbers carry their sign as well as their colour
            signs = page.eval_on_selector_all(
                ".num.pos, .num.neg",
                "els => els.map(e => [e.classList.contains('pos'), e.textContent.trim()])",
            )
            assert signs, "no signed number on the page"
            for positive, text in signs:
                assert text[0] == ("+" if positive else "\u2212"), text
            assert refused == [], f"the page tried to leave 127.0.0.1: {refused}"
            page.screenshot(path=str(shots / f"{name}.png"), full_page=width < 500)
            page.context.close()
    print(f"dashboard screenshots: {shots}")


def test_fill_through_the_api_shows_within_a_second_and_a_restart_loses_nothing(
    browser: Any, tmp_path: Path, shots: Path
) -> None:
    port = free_port()
    db = f"sqlite:///{tmp_path / 'store.db'}"
    with serve(tmp_path, port, db) as server:
        buy_and_fill(server, "before-1")
        page, refused = offline_page(browser)
        page.goto(f"{server.http}/dashboard")
        page.wait_for_selector(f"{FILLED}[data-fill='before-1']")
        page.wait_for_selector("#connection.up")

        started = time.monotonic()
        buy_and_fill(server, "live-1")
        page.wait_for_selector(f"{FILLED}[data-fill='live-1']", timeout=5000)
        page.wait_for_function(
            "() => [...document.querySelectorAll('#positions td')]"
            ".some(td => td.textContent.trim() === '+4.00')",
            timeout=5000,
        )
        commission = "#totals [data-figure=commissionPaid] .num"
        page.wait_for_function(
            f"() => document.querySelector('{commission}')?.textContent === '1.00'", timeout=5000
        )
        shown_after = time.monotonic() - started
        assert shown_after < 2.0, f"the fill took {shown_after:.2f} s to show (target 1 s)"
        print(
            f"fill recorded -> trade log, position, totals on screen: {shown_after * 1000:.0f} ms"
        )

    # the server is down: the page says so and keeps trying
    page.wait_for_selector("#stale", timeout=15_000)
    assert "STALE" in page.inner_text("#stale")
    page.screenshot(path=str(shots / "stale-1366x768.png"))

    # a fill recorded during the outage, by another server process on the same store
    with serve(tmp_path, free_port(), db) as other:
        buy_and_fill(other, "outage-1")

    with serve(tmp_path, port, db) as server:
        page.wait_for_selector("#connection.up", timeout=30_000)
        page.wait_for_selector("#stale", state="detached", timeout=15_000)
        page.wait_for_selector(f"{FILLED}[data-fill='outage-1']", timeout=10_000)
        buy_and_fill(server, "after-1")
        page.wait_for_selector(f"{FILLED}[data-fill='after-1']", timeout=5000)
        page.wait_for_function(
            "() => [...document.querySelectorAll('#positions td')]"
            ".some(td => td.textContent.trim() === '+8.00')",
            timeout=5000,
        )
        rows = trade_rows(page)
        stored = [t["fillId"] for t in server.data("{ trades(limit: 100) { fillId } }")["trades"]]
        assert sorted(rows) == sorted(stored) == ["after-1", "before-1", "live-1", "outage-1"]
        assert page.locator("#positions tbody tr").count() == 1
    assert refused == []


def test_with_tokens_the_page_asks_for_one_and_refuses_a_wrong_one(
    browser: Any, tmp_path: Path, shots: Path
) -> None:
    port = free_port()
    with serve(
        tmp_path,
        port,
        f"sqlite:///{tmp_path / 'store.db'}",
        token=TRADER,
        reader_token=READER,
        trader_token=TRADER,
    ) as server:
        buy_and_fill(server, "tokened-1")
        page, refused = offline_page(browser)
        page.goto(f"{server.http}/dashboard")
        page.wait_for_selector("#token-prompt")
        assert page.locator("section.panel").count() == 0

        page.fill("#token-prompt input[name=token]", "not-the-token")
        page.click("#token-prompt button")
        page.wait_for_selector("#token-prompt [role=alert]")
        assert "refused" in page.inner_text("#token-prompt [role=alert]")
        page.screenshot(path=str(shots / "token-refused.png"))

        page.fill("#token-prompt input[name=token]", READER)
        page.click("#token-prompt button")
        page.wait_for_selector(f"{FILLED}[data-fill='tokened-1']")
        page.wait_for_selector("#connection.up")
        assert page.evaluate("sessionStorage.getItem('tradestate.readerToken')") == READER
        assert page.evaluate("localStorage.length") == 0

        page.reload()  # same browser session: no prompt again
        page.wait_for_selector(f"{FILLED}[data-fill='tokened-1']")
        assert page.locator("#token-prompt").count() == 0
        assert refused == []
