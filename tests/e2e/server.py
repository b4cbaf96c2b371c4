"""A real `tradestate serve` process on loopback, and a small GraphQL client for it."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from graphql import GraphQLSchema, build_client_schema, get_introspection_query

ROOT = Path(__file__).resolve().parents[2]
CONTRACT = Path(
    os.environ.get("TRADESTATE_CONTRACT") or ROOT.parent / "shared" / "contract" / "schema.graphql"
)
START_TIMEOUT = 30.0


def contract_sdl() -> str:
    """The shared GraphQL contract (beside the checkout, or TRADESTATE_CONTRACT). A
    clone without it skips the check; CI (TRADESTATE_REQUIRE_CONTRACT=1) fails."""
    import pytest

    if CONTRACT.is_file():
        return CONTRACT.read_text()
    reason = f"the shared GraphQL contract is not at {CONTRACT} (set TRADESTATE_CONTRACT)"
    if os.environ.get("TRADESTATE_REQUIRE_CONTRACT") == "1":
        pytest.fail(reason)
    pytest.skip(reason)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def serve_command(*args: str) -> list[str]:
    return [sys.executable, "-c", "from interfaces.cli.main import main; main()", "serve", *args]


def environment(**settings: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TRADESTATE_")}
    env.update({f"TRADESTATE_{k.upper()}": v for k, v in settings.items()})
    env["TRADESTATE_LOG_FORMAT"] = "json"
    env["PYTHONPATH"] = str(ROOT)
    return env


@dataclass
class Server:
    port: int
    db: str
    process: subprocess.Popen[bytes]
    log: Path
    token: str | None = None
    client: httpx.Client = field(init=False)

    def __post_init__(self) -> None:
        headers = {"authorization": f"Bearer {self.token}"} if self.token else {}
        self.client = httpx.Client(base_url=self.http, headers=headers, timeout=30)

    @property
    def http(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def ws(self) -> str:
        return f"ws://127.0.0.1:{self.port}/graphql"

    def post(
        self, query: str, variables: dict[str, Any] | None = None, **kw: Any
    ) -> dict[str, Any]:
        response = self.client.post(
            "/graphql", json={"query": query, "variables": variables or {}}, **kw
        )
        assert response.status_code == 200, response.text
        return response.json()

    def data(self, query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
        body = self.post(query, variables)
        assert "errors" not in body, body["errors"]
        return body["data"]

    def head(self) -> int:
        return int(self.data("{ systemStatus { headSequence } }")["systemStatus"]["headSequence"])

    def rss_kib(self) -> int:
        for line in Path(f"/proc/{self.process.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
        raise RuntimeError("no VmRSS")

    def stop(self) -> int:
        self.client.close()
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                return self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                return self.process.wait()
        return self.process.returncode


@contextlib.contextmanager
def running_server(
    tmp: Path,
    *,
    db: str | None = None,
    token: str | None = None,
    args: tuple[str, ...] = (),
    **settings: str,
) -> Iterator[Server]:
    port = free_port()
    db = db or f"sqlite:///{tmp / 'tradestate.db'}"
    log = tmp / f"server-{port}.log"
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


def wait_until_healthy(server: Server) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise RuntimeError(f"server exited:\n{server.log.read_text()[-3000:]}")
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(f"{server.http}/ready", timeout=1).status_code == 200:
                return
        time.sleep(0.1)
    raise RuntimeError(f"server did not become ready:\n{server.log.read_text()[-3000:]}")


def served_schema(server: Server) -> GraphQLSchema:
    """The schema the server publishes, by introspection (no token needed)."""
    body = httpx.post(
        f"{server.http}/graphql", json={"query": get_introspection_query()}, timeout=30
    ).json()
    return build_client_schema(body["data"])
