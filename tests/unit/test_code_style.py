"""ruff (lint + format) and mypy (pinned in pyproject.toml) over the whole tree."""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
MYPY_PATHS = ("domain", "application", "infrastructure", "interfaces")


def run(*command: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", *command], cwd=ROOT, capture_output=True, text=True, timeout=240
    )


def test_ruff_finds_nothing_to_lint_or_format():
    lint = run("ruff", "check", "--output-format", "concise", ".")
    assert lint.returncode == 0, lint.stdout + lint.stderr
    formatted = run("ruff", "format", "--check", ".")
    assert formatted.returncode == 0, formatted.stdout + formatted.stderr


def test_mypy_finds_no_errors():
    checked = run("mypy", *MYPY_PATHS)
    assert checked.returncode == 0, checked.stdout + checked.stderr
