"""The npm builders (interfaces/npm_build.py and the two build.py on it) import only the
standard library: setup.py imports them in pip's isolated build environment."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from interfaces import npm_build
from interfaces.dashboard import build as dashboard
from interfaces.playground import build as playground

ROOT = Path(__file__).resolve().parents[2]


def test_the_builders_import_with_the_standard_library_alone() -> None:
    # -I: no PYTHONPATH, no user site; -S: no site-packages (no project dependency)
    code = (
        f"import sys; sys.path.insert(0, {str(ROOT)!r}); "
        "import interfaces.dashboard.build, interfaces.playground.build"
    )
    found = subprocess.run(
        [sys.executable, "-I", "-S", "-c", code], capture_output=True, text=True, timeout=60
    )
    assert found.returncode == 0, found.stderr


def test_without_npm_each_builder_says_how_to_get_it_or_skip_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("NPM", raising=False)
    monkeypatch.delenv(npm_build.SKIP_ENV, raising=False)
    monkeypatch.setenv("PATH", str(tmp_path))
    for builder in (dashboard, playground):
        with pytest.raises(npm_build.BuildError, match=f"npm was not found.*{npm_build.SKIP_ENV}"):
            builder.build(tmp_path / "out", force=True, log=lambda _: None)
    monkeypatch.setenv(npm_build.SKIP_ENV, "1")
    for builder in (dashboard, playground):
        assert builder.build(tmp_path / "out", force=True, log=lambda _: None) is False
    assert not (tmp_path / "out").exists()
