"""The offline GraphiQL playground, driven in a real headless Chromium.

Starts a real `tradestate serve` on 127.0.0.1 with reader and trader tokens and
a filled order in its store, opens /graphql in Debian's chromium with every
non-loopback host unreachable, runs the default OpenPositions query (refused
without a token, answered once the reader token is in the Headers pane) and the
LiveEvents subscription (its stored events, then a live one written while it
runs), checks what the response pane shows, and saves screenshots to
test-artifacts/.

Chromium is driven over the Chrome DevTools Protocol with the `websockets`
package (no extra browser-automation dependency).  Skipped when chromium is not
installed, unless CI is set.  TRADESTATE_CHROMIUM overrides the binary.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import itertools
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.server import Server, running_server

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts"
READER_TOKEN = "playground-reader"
TRADER_TOKEN = "playground-trader"
TOKEN = f"Bearer {READER_TOKEN}"

pytestmark = pytest.mark.e2e


def _find_chromium() -> str | None:
    configured = os.environ.get("TRADESTATE_CHROMIUM")
    if configured:
        return shutil.which(configured)
    for candidate in ("/usr/bin/chromium", "chromium", "chromium-browser"):
        found = shutil.which(candidate)
        if found:
            return found
    return None


def _stop(proc: subprocess.Popen[Any], *, group: bool = False) -> None:
    if proc.poll() is not None:
        return
    try:
        if group:
            os.killpg(proc.pid, signal.SIGTERM)
        else:
            proc.terminate()
        proc.wait(timeout=10)
    except (subprocess.TimeoutExpired, ProcessLookupError):
        if group:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
        else:
            proc.kill()
        proc.wait(timeout=10)


@pytest.fixture(scope="module")
def chromium() -> str:
    path = _find_chromium()
    if path is None:
        reason = (
            "headless Chromium not found (/usr/bin/chromium; Debian: apt-get install "
            "chromium, or set TRADESTATE_CHROMIUM)"
        )
        if os.environ.get("CI"):
            pytest.fail(f"{reason}; CI is set, so this test must run")
        pytest.skip(reason)
    return path


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    sys.path.insert(0, str(ROOT))
    from interfaces.playground import VENDOR_DIR, assets_available

    if not assets_available():
        pytest.fail(
            f"the GraphiQL bundles are missing from {VENDOR_DIR}: build them with "
            "`python -m interfaces.playground.build` (needs npm) or reinstall the package"
        )
    tmp = tmp_path_factory.mktemp("playground")
    with running_server(
        tmp, token=TRADER_TOKEN, reader_token=READER_TOKEN, trader_token=TRADER_TOKEN
    ) as running:
        order = running.data(
            'mutation { placeOrder(input: {clientOrderId: "pg-1", instrument: "PLAYCORP", '
            'side: BUY, quantity: "12"}) { order { id } } }'
        )["placeOrder"]["order"]["id"]
        running.data(
            'mutation($o: ID!) { recordFill(input: {orderId: $o, fillId: "pg-f1", '
            'quantity: "12", price: "37.50"}) { sequence } }',
            {"o": order},
        )
        yield running


class CDP:
    """A minimal Chrome DevTools Protocol client over one browser WebSocket."""

    def __init__(self, ws: Any) -> None:
        self.ws = ws
        self.ids = itertools.count(1)
        self.pending: dict[int, asyncio.Future[dict[str, Any]]] = {}
        self.events: list[dict[str, Any]] = []
        self.reader = asyncio.get_running_loop().create_task(self._read())

    async def _read(self) -> None:
        async for raw in self.ws:
            msg = json.loads(raw)
            if "id" in msg and msg["id"] in self.pending:
                self.pending.pop(msg["id"]).set_result(msg)
            elif "method" in msg:
                self.events.append(msg)

    async def send(
        self, method: str, params: dict[str, Any] | None = None, session: str | None = None
    ) -> dict[str, Any]:
        msg_id = next(self.ids)
        fut: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self.pending[msg_id] = fut
        msg: dict[str, Any] = {"id": msg_id, "method": method, "params": params or {}}
        if session:
            msg["sessionId"] = session
        await self.ws.send(json.dumps(msg))
        reply = await asyncio.wait_for(fut, timeout=30)
        if "error" in reply:
            raise AssertionError(f"CDP {method} failed: {reply['error']}")
        return reply.get("result", {})


class Page:
    def __init__(self, cdp: CDP, session: str) -> None:
        self.cdp = cdp
        self.session = session

    async def send(self, method: str, params: dict[str, Any] | None = None) -> dict[str, Any]:
        return await self.cdp.send(method, params, self.session)

    async def eval(self, expression: str) -> Any:
        result = await self.send(
            "Runtime.evaluate",
            {"expression": expression, "returnByValue": True, "awaitPromise": True},
        )
        if "exceptionDetails" in result:
            raise AssertionError(f"JS error in {expression!r}: {result['exceptionDetails']}")
        return result["result"].get("value")

    async def wait_for(self, expression: str, what: str, timeout: float = 30) -> Any:
        deadline = time.monotonic() + timeout
        value: Any = None
        while time.monotonic() < deadline:
            try:
                value = await self.eval(expression)
            except AssertionError:
                value = None
            if value:
                return value
            await asyncio.sleep(0.2)
        await self.screenshot(ARTIFACTS / "playground-failure.png")
        raise AssertionError(f"timed out waiting for {what}; last value: {value!r}")

    async def screenshot(self, path: Path) -> None:
        shot = await self.send("Page.captureScreenshot", {"format": "png"})
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(base64.b64decode(shot["data"]))


# JS helpers (GraphiQL 3.8 DOM: CodeMirror 5 editors)
QUERY_EDITOR = "document.querySelector('.graphiql-query-editor .CodeMirror').CodeMirror"
HEADERS_EDITOR = (
    "document.querySelector('.graphiql-editor-tool .graphiql-editor:not(.hidden) .CodeMirror')"
    ".CodeMirror"
)
RESPONSE_TEXT = "(document.querySelector('.graphiql-response') || {}).innerText || ''"
CLICK_RUN = "document.querySelector('.graphiql-execute-button').click(), true"


async def _set_headers(page: Page, headers: dict[str, str]) -> None:
    await page.eval(f"{HEADERS_EDITOR}.setValue({json.dumps(json.dumps(headers))}), true")
    await asyncio.sleep(0.3)


async def _drive(chromium_path: str, server: Server, profile: Path) -> dict[str, Any]:
    import websockets

    base = server.http

    cmd = [
        chromium_path,
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--no-default-browser-check",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--disable-extensions",
        "--disable-dev-shm-usage",
        f"--user-data-dir={profile}",
        # the network is cut off: every host but loopback resolves to nothing, and
        # whatever is not loopback goes to a dead proxy
        "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
        "--proxy-server=http://127.0.0.1:9",
        "--proxy-bypass-list=127.0.0.1",
        "--window-size=1440,900",
        "--remote-debugging-port=0",
        "about:blank",
    ]
    browser = subprocess.Popen(
        cmd,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )
    try:
        port_file = profile / "DevToolsActivePort"
        deadline = time.monotonic() + 30
        while not (port_file.is_file() and len(port_file.read_text().splitlines()) >= 2):
            if browser.poll() is not None:
                err = browser.stderr.read().decode(errors="replace") if browser.stderr else ""
                raise AssertionError(f"chromium exited early ({browser.returncode}):\n{err}")
            if time.monotonic() > deadline:
                raise AssertionError("chromium did not open its DevTools port within 30s")
            await asyncio.sleep(0.1)
        devtools_port, browser_path = port_file.read_text().splitlines()[:2]
        ws_url = f"ws://127.0.0.1:{devtools_port}{browser_path}"
        async with websockets.connect(ws_url, max_size=None) as ws:
            cdp = CDP(ws)
            target = await cdp.send("Target.createTarget", {"url": "about:blank"})
            attached = await cdp.send(
                "Target.attachToTarget", {"targetId": target["targetId"], "flatten": True}
            )
            page = Page(cdp, attached["sessionId"])
            for domain in ("Page", "Runtime", "Network"):
                await page.send(f"{domain}.enable")
            await page.send(
                "Emulation.setDeviceMetricsOverride",
                {"width": 1440, "height": 900, "deviceScaleFactor": 1, "mobile": False},
            )
            await page.send("Page.navigate", {"url": f"{base}/graphql"})

            title = await page.wait_for("document.title", "the page title")
            await page.wait_for(
                "!!document.querySelector('.graphiql-execute-button')"
                f" && {QUERY_EDITOR}.getValue()",
                "GraphiQL to render",
            )
            first_tab = await page.eval(f"{QUERY_EDITOR}.getValue()")
            tab_labels = await page.eval(
                "[...document.querySelectorAll('.graphiql-tab')].map(t => t.innerText.trim())"
            )
            # without a token the server refuses, and the page says so
            await page.eval(CLICK_RUN)
            refused = await page.wait_for(
                f"(t => t.includes('UNAUTHENTICATED') && t)({RESPONSE_TEXT})", "the refusal"
            )
            await _set_headers(page, {"Authorization": TOKEN})
            await page.eval(CLICK_RUN)
            query_result = await page.wait_for(
                f"(t => t.includes('PLAYCORP') && t)({RESPONSE_TEXT})", "the query result"
            )
            await asyncio.sleep(0.5)
            await page.screenshot(ARTIFACTS / "playground.png")

            # second tab: the live subscription, with a token in the Headers pane
            await page.eval(
                "document.querySelectorAll('.graphiql-tab .graphiql-tab-button')[1].click(), true"
            )
            second_tab = await page.wait_for(
                f"(v => v.includes('subscription LiveEvents') && v)({QUERY_EDITOR}.getValue())",
                "the LiveEvents tab",
            )
            await _set_headers(page, {"Authorization": TOKEN})
            await page.eval(CLICK_RUN)
            stored_result = await page.wait_for(
                f"(t => t.includes('FillRecorded') && t)({RESPONSE_TEXT})",
                "the subscription's stored events",
            )
            # a live event, written while the subscription runs, reaches the page
            await asyncio.to_thread(
                server.data,
                'mutation { ingestQuotes(quotes: [{instrument: "PLAYCORP", last: "38.25"}]) '
                "{ sequence } }",
            )
            subscription_result = await page.wait_for(
                f"(t => t.includes('QuotesIngested') && t.includes('38.25') && t)({RESPONSE_TEXT})",
                "the subscription's live event",
            )
            await asyncio.sleep(0.3)
            await page.screenshot(ARTIFACTS / "playground-subscription.png")
            events = list(cdp.events)
            # negative control: the browser really cannot leave loopback
            outside = await page.eval(
                "fetch('https://registry.npmjs.org/graphiql', {mode: 'no-cors'})"
                ".then(() => 'reached', () => 'blocked')"
            )
            cdp.reader.cancel()
    finally:
        _stop(browser, group=True)
    return {
        "title": title,
        "first_tab": first_tab,
        "second_tab": second_tab,
        "tab_labels": tab_labels,
        "refused": refused,
        "query_result": query_result,
        "stored_result": stored_result,
        "subscription_result": subscription_result,
        "events": events,
        "outside": outside,
    }


def test_playground_runs_queries_and_subscriptions_offline(chromium: str, server: Server) -> None:
    with tempfile.TemporaryDirectory(prefix="tradestate-chromium-") as profile:
        seen = asyncio.run(asyncio.wait_for(_drive(chromium, server, Path(profile)), 120))
    base = server.http

    assert "tradestate" in seen["title"]
    assert "query OpenPositions" in seen["first_tab"]
    assert "positions(status: OPEN)" in seen["first_tab"]
    assert "Welcome to GraphiQL" not in seen["first_tab"]
    assert len(seen["tab_labels"]) >= 2, seen["tab_labels"]

    # without a token: refused; with the reader token: the real position
    assert "UNAUTHENTICATED" in seen["refused"]
    for text in ('"PLAYCORP"', '"12"', '"37.5', '"asOf"'):
        assert text in seen["query_result"], seen["query_result"]

    # the subscription ran over WebSocket (the server refuses one without a token,
    # so the Headers pane's token reached connection_init) and got the stored
    # events, then the live one
    assert "subscription LiveEvents" in seen["second_tab"]
    assert "FillRecorded" in seen["stored_result"]
    assert "38.25" in seen["subscription_result"]

    events = seen["events"]
    requests = [
        e["params"]["request"]["url"] for e in events if e["method"] == "Network.requestWillBeSent"
    ]
    sockets = [e["params"]["url"] for e in events if e["method"] == "Network.webSocketCreated"]
    assert any(u.startswith(f"{base}/playground/assets/graphiql.min.js") for u in requests)
    assert any(u.endswith("/graphql") and u.startswith("ws://127.0.0.1:") for u in sockets), sockets
    foreign = [
        u
        for u in requests + sockets
        if not u.startswith((base, base.replace("http:", "ws:", 1), "data:", "blob:", "about:"))
    ]
    assert foreign == [], f"the page reached outside the app: {foreign}"
    failed = [
        e["params"]
        for e in events
        if e["method"] == "Network.loadingFailed" and not e["params"].get("canceled")
    ]
    assert failed == [], failed
    exceptions = [e["params"] for e in events if e["method"] == "Runtime.exceptionThrown"]
    assert exceptions == [], exceptions
    assert seen["outside"] == "blocked"
