"""What the fuzzers (test_fuzz.py: hypothesis-graphql and hand-built variables;
test_schemathesis.py: schemathesis) demand of every answer and of the server after a run,
and the store their target server runs on: one definition for both."""

from __future__ import annotations

import contextlib
import os
import re
import time
from typing import Any

import pytest

from tests.e2e.server import Server
from tests.integration.conftest import POSTGRES_URL_VARIABLE, fresh_postgres_database

#: The contract's error codes: every error an answer carries has one of them.
CODES = {"BAD_USER_INPUT", "NOT_FOUND", "CONFLICT", "UNAUTHENTICATED", "FORBIDDEN", "UNAVAILABLE"}
#: Words of the implementation that no answer may show (unless the request sent them).
INTERNAL = re.compile(
    r"Traceback|File \"|site-packages|\.py\b|sqlalchemy|sqlite3|psycopg|eventsourcing\.|"
    r"maximum recursion|NoneType|InvalidOperation|\b(Key|Type|Value|Attribute|Index|Recursion|"
    r"Overflow|Unicode\w*|Assertion|Runtime|Integrity|Operational|Programming|Data)Error\b"
)
ENGINES = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]


def target_database(engine: str, stack: contextlib.ExitStack) -> str | None:
    """The database URL of a target on `engine` (a fresh PostgreSQL database, dropped when
    `stack` closes; None: the server's own SQLite file), or skip without PostgreSQL."""
    if engine != "postgres":
        return None
    url = os.environ.get(POSTGRES_URL_VARIABLE)
    if not url:
        pytest.skip(f"{POSTGRES_URL_VARIABLE} is not set; PostgreSQL e2e tests skipped")
    return stack.enter_context(fresh_postgres_database(url))


def clean_answer(response: Any, sent: str) -> dict[str, Any]:
    """The body of `response` (httpx's or schemathesis'), after the checks every answer
    must pass: no 5xx, no internals it was not sent, a JSON object, and every error with
    a message and one of the contract's codes."""
    text = response.text
    assert response.status_code < 500, text
    # Error messages may quote the input: internal words count only when we did not send them.
    leaked = {m.group(0) for m in INTERNAL.finditer(text)} - {
        m.group(0) for m in INTERNAL.finditer(sent)
    }
    assert not leaked, f"internals {leaked} in the answer to {sent[:2000]!r}: {text[:2000]}"
    body = response.json()
    assert isinstance(body, dict), text
    for error in body.get("errors") or []:
        assert error.get("message"), error
        assert (error.get("extensions") or {}).get("code") in CODES, (sent[:2000], error)
    return body


def assert_current_and_nothing_logged_as_an_error(target: Server) -> None:
    """After a run: every read model has applied every accepted event without error (what
    was accepted poisoned no projection) and the server logged no error nor traceback."""
    status = "{ systemStatus { projections { name lag error } } }"
    deadline = time.monotonic() + 60  # slack: seen 15 s short at load average 21 on 2 cores
    while True:
        projections = target.data(status)["systemStatus"]["projections"]
        if all(p["lag"] == 0 and p["error"] is None for p in projections):
            break
        assert time.monotonic() < deadline, f"read models behind or failed: {projections}"
        time.sleep(0.2)
    log = target.log.read_text()
    errors = [line for line in log.splitlines() if '"level": "error"' in line]
    assert errors == [], "\n".join(line[:500] for line in errors)
    assert "Traceback" not in log
