"""The npm `graphql-ws` client under Node (graphql-transport-ws) against a real server."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.e2e.server import Server

pytestmark = pytest.mark.e2e

NODE_DIR = Path(__file__).resolve().parent / "node"


@pytest.fixture(scope="module")
def node_client() -> Path:
    node, npm = shutil.which("node"), shutil.which("npm")
    if node is None or npm is None:
        pytest.skip("node/npm not installed")
    if not (NODE_DIR / "node_modules" / "graphql-ws").is_dir():
        subprocess.run(
            [npm, "ci", "--no-audit", "--no-fund"], cwd=NODE_DIR, check=True, timeout=300
        )
    return NODE_DIR / "subscribe.mjs"


def run_node(script: Path, server: Server, after: int, count: int, token: str = "") -> list[dict]:
    result = subprocess.run(
        ["node", str(script), server.ws, str(after), str(count), token],
        capture_output=True,
        text=True,
        timeout=60,
    )
    lines = [json.loads(line) for line in result.stdout.splitlines() if line.strip()]
    assert lines, result.stderr
    return lines


def test_node_graphql_ws_client_receives_events_in_order(node_client: Path, server: Server) -> None:
    start = server.head()
    for i in range(5):
        server.data(
            f'mutation {{ ingestQuotes(quotes: [{{instrument: "NODE", last: "{i + 1}"}}]) '
            "{ sequence } }"
        )
    messages = run_node(node_client, server, start, 5)
    assert [m["data"]["events"]["sequence"] for m in messages] == list(range(start + 1, start + 6))
    assert {m["data"]["events"]["type"] for m in messages} == {"QuotesIngested"}


def test_node_client_without_a_token_is_refused(node_client: Path, guarded: Server) -> None:
    messages = run_node(node_client, guarded, 0, 1)
    assert "error" in messages[-1]
