"""Suite-wide hooks. Where PostgreSQL is required (CI), a skipped PostgreSQL test fails."""

from __future__ import annotations

import os

import pytest

REQUIRE_POSTGRES = os.environ.get("TRADESTATE_REQUIRE_POSTGRES") == "1"


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]):
    outcome = yield
    report = outcome.get_result()
    if REQUIRE_POSTGRES and report.skipped and item.get_closest_marker("postgres"):
        report.outcome = "failed"
        report.longrepr = (
            f"{item.nodeid}: PostgreSQL tests must run here (TRADESTATE_REQUIRE_POSTGRES=1), "
            f"but this one was skipped: {report.longrepr}"
        )
