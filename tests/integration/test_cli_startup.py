"""A CLI that starts fast: each command imports what it needs when it runs (ADR 017)."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from infrastructure.settings import load_settings
from interfaces.cli.main import COMMANDS, load_command
from interfaces.composition import build_system

HEAVY = ("litestar", "strawberry", "alembic", "psycopg", "sqlalchemy", "websockets")

PROBE = """
import json, sys
from interfaces.cli.main import app
try:
    app(sys.argv[1:], prog_name="tradestate")
except SystemExit:
    pass
heavy = {HEAVY!r}
sys.stderr.write(json.dumps(sorted(m for m in heavy if m in sys.modules)) + "\\n")
"""


def imported_by(*args: str) -> tuple[list[str], str]:
    """Which of HEAVY the real CLI imported to run `tradestate ARGS`, and its stdout."""
    result = subprocess.run(
        [sys.executable, "-c", PROBE.format(HEAVY=HEAVY), *args],
        capture_output=True,
        text=True,
        timeout=120,
    )
    return json.loads(result.stderr.strip().splitlines()[-1]), result.stdout


@pytest.mark.parametrize("args", [("--help",), ("--version",), ()])
def test_help_and_version_import_neither_server_nor_store(args):
    imported, output = imported_by(*args)
    assert imported == []
    assert "tradestate" in output


def test_help_lists_every_command_with_its_own_short_help():
    imported, output = imported_by("--help")
    for name in COMMANDS:
        assert name in output
    for name, (_, _, short) in COMMANDS.items():
        real = load_command(name)
        assert real.get_short_help_str(limit=500) == short, name
        assert real.name == name


def test_events_list_imports_no_server_no_migrations_and_no_postgres_driver(tmp_path):
    url = f"sqlite:///{tmp_path / 'store.db'}"
    imported, output = imported_by("events", "list", "--db", url)
    assert "events after 0" in output
    assert imported == ["sqlalchemy"]


def test_time_travel_on_a_current_store_neither_migrates_nor_builds_the_system(tmp_path):
    """Alembic is imported only to migrate: a store at the newest schema is known
    without it, so time travel (which starts from `open_store`) never loads it."""
    url = f"sqlite:///{tmp_path / 'store.db'}"
    system = build_system(load_settings(database_url=url))  # migrated to the head
    system.close()
    probe = PROBE.format(HEAVY=(*HEAVY, "interfaces.composition"))
    result = subprocess.run(
        [sys.executable, "-c", probe, "replay", "--until-sequence", "0", "--format", "json",
         "--db", url],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert json.loads(result.stdout)["sequence"] == 0
    assert json.loads(result.stderr.strip().splitlines()[-1]) == ["sqlalchemy"]


def test_a_sub_command_help_loads_only_its_module():
    imported, output = imported_by("events", "export", "--help")
    assert "--output" in output
    assert "litestar" not in imported and "alembic" not in imported
