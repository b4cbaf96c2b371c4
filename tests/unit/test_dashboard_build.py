"""The dashboard's build: what ships was built from the committed sources, by the
lockfile, and loads nothing from outside the server."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest

from interfaces.dashboard import DIST_DIR, assets_available
from interfaces.dashboard import build as builder

FRONTEND = builder.FRONTEND_DIR


def test_every_npm_package_is_pinned_with_an_integrity_hash() -> None:
    lock = json.loads((FRONTEND / "package-lock.json").read_text())
    manifest = json.loads((FRONTEND / "package.json").read_text())
    for name, version in {**manifest["dependencies"], **manifest["devDependencies"]}.items():
        assert re.fullmatch(r"\d+\.\d+\.\d+", version), f"{name} is not pinned: {version}"
        assert lock["packages"][f"node_modules/{name}"]["version"] == version
    for path, package in lock["packages"].items():
        if path:  # fetched from the configured registry (npm's default) unless it says
            assert package.get("resolved", "https://registry.npmjs.org/").startswith(
                "https://registry.npmjs.org/"
            ), path
            assert package["integrity"].startswith("sha512-"), path


def test_the_sources_hash_changes_with_any_source_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    copy = tmp_path / "frontend"
    shutil.copytree(FRONTEND, copy, ignore=shutil.ignore_patterns("node_modules"))
    monkeypatch.setattr(builder, "FRONTEND_DIR", copy)
    before = builder.sources_hash()
    (copy / "src" / "format.ts").write_text((copy / "src" / "format.ts").read_text() + "\n")
    assert builder.sources_hash() != before


def test_the_shipped_page_was_built_from_these_sources_and_loads_only_its_own_assets() -> None:
    if not assets_available():
        pytest.fail(
            f"the dashboard is not built in {DIST_DIR}: python -m interfaces.dashboard.build"
        )
    assert builder.is_up_to_date(), (
        "static/dist was built from other sources: python -m interfaces.dashboard.build"
    )
    page = (DIST_DIR / "index.html").read_text()
    urls = re.findall(r'(?:src|href)="([^"]+)"', page)
    assert urls and all(u.startswith(("/dashboard/assets/", "data:")) for u in urls), urls
    for url in urls:
        if url.startswith("/dashboard/assets/"):
            assert (DIST_DIR / "assets" / url.removeprefix("/dashboard/assets/")).is_file()
