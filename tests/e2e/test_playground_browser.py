"""The offline GraphiQL playground, driven in a real headless Chromium.

Starts tests/e2e/playground_app.py (toy schema + the tradestate playground) with
uvicorn on 127.0.0.1, opens /graphql in Debian's chromium with every
non-loopback host unreachable, runs the default OpenPositions query and the
LiveEvents subscription (with a token set in the Headers pane), checks what the
response pane shows, and saves screenshots to test-artifacts/.

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
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
APP = Path(__file__).resolve().with_name("playground_app.py")
ARTIFACTS = ROOT / "test-artifacts"
TOKEN = "Bearer toy-token"

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


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


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
def server() -> Iterator[str]:
    sys.path.insert(0, str(ROOT))
    from interfaces.playground import VENDOR_DIR, assets_available

    if not assets_available():
        pytest.fail(
            f"the GraphiQL bundles are missing from {VENDOR_DIR}: build them with "
            "`python -m interfaces.playground.build` (needs npm) or reinstall the package"
        )
    port = _free_port()
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]),
    }
    proc = subprocess.Popen(
        [sys.executable, str(APP), "--host", "127.0.0.1", "--port", str(port)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            if proc.poll() is not None:
                pytest.fail(
                    f"playground app exited early:\n{proc.stdout.read() if proc.stdout else ''}"
                )
            try:
                req = urllib.request.Request(f"{base}/graphql", headers={"Accept": "text/html"})
                with urllib.request.urlopen(req, timeout=2) as resp:
                    if resp.status == 200:
                        break
            except OSError:
                pass
            if time.monotonic() > deadline:
                pytest.fail("playground app did not start within 30s")
            time.sleep(0.2)
        yield base
    finally:
        _stop(proc)


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


async def _drive(chromium_path: str, base: str, profile: Path) -> dict[str, Any]:
    import websockets

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
            await page.eval(CLICK_RUN)
            query_result = await page.wait_for(
                f"(t => t.includes('TOYCORP') && t)({RESPONSE_TEXT})", "the query result"
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
            await page.eval(
                f"{HEADERS_EDITOR}.setValue({json.dumps(json.dumps({'Authorization': TOKEN}))}),"
                " true"
            )
            await asyncio.sleep(0.3)
            await page.eval(CLICK_RUN)
            subscription_result = await page.wait_for(
                f"(t => t.includes('PositionUpdated') && t)({RESPONSE_TEXT})",
                "the subscription's second event",
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
        "query_result": query_result,
        "subscription_result": subscription_result,
        "events": events,
        "outside": outside,
    }


def test_playground_runs_queries_and_subscriptions_offline(chromium: str, server: str) -> None:
    with tempfile.TemporaryDirectory(prefix="tradestate-chromium-") as profile:
        seen = asyncio.run(asyncio.wait_for(_drive(chromium, server, Path(profile)), 120))

    assert "tradestate" in seen["title"]
    assert "query OpenPositions" in seen["first_tab"]
    assert "positions(status: OPEN)" in seen["first_tab"]
    assert "Welcome to GraphiQL" not in seen["first_tab"]
    assert len(seen["tab_labels"]) >= 2, seen["tab_labels"]

    # the response pane shows the fake position
    for text in ('"TOYCORP"', '"37.50"', '"asOf": 42', '"pos-toy-1"'):
        assert text in seen["query_result"], seen["query_result"]

    # the subscription ran over WebSocket and got the Headers pane's token in
    # its connection_init payload, as {"authorization": ...}
    assert '"seenAuthorization": "Bearer toy-token"' in seen["subscription_result"]
    assert "subscription LiveEvents" in seen["second_tab"]

    events = seen["events"]
    requests = [
        e["params"]["request"]["url"] for e in events if e["method"] == "Network.requestWillBeSent"
    ]
    sockets = [e["params"]["url"] for e in events if e["method"] == "Network.webSocketCreated"]
    assert any(u.startswith(f"{server}/playground/assets/graphiql.min.js") for u in requests)
    assert any(u.endswith("/graphql") and u.startswith("ws://127.0.0.1:") for u in sockets), sockets
    foreign = [
        u
        for u in requests + sockets
        if not u.startswith((server, server.replace("http:", "ws:", 1), "data:", "blob:", "about:"))
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
