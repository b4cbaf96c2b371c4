"""Build the trader's dashboard (``/dashboard``) from its TypeScript sources.

``frontend/`` holds the page's sources (Preact, graphql-ws, lightweight-charts,
TypeScript, Vite), pinned by ``frontend/package-lock.json``.  The shared npm builder
(``interfaces/npm_build.py``) installs exactly what the lockfile pins in a temporary
copy of the sources; this module type-checks (``tsc --noEmit``), bundles (``vite
build``) into ``static/dist/`` (gitignored, shipped as package data) and writes a
manifest recording the hash of the sources and lockfile it came from.

It runs from the package build (``setup.py``: ``build_dashboard``, beside
``build_playground``) and by hand::

    python -m interfaces.dashboard.build            # build if not up to date
    python -m interfaces.dashboard.build --force    # always rebuild
    python -m interfaces.dashboard.build --check    # exit 1 unless up to date

``TRADESTATE_SKIP_PLAYGROUND_BUILD=1`` skips it too (the page then says its
assets are not built).  Standard library only: ``setup.py`` imports it in pip's
isolated build environment.
"""

from __future__ import annotations

import hashlib
import json
import sys
from pathlib import Path
from typing import Any

from interfaces.npm_build import Assets, BuildError, Log, read_json, stderr

__all__ = ["BuildError", "build", "is_up_to_date", "main", "read_manifest", "sources_hash"]

DASHBOARD_DIR = Path(__file__).resolve().parent
FRONTEND_DIR = DASHBOARD_DIR / "frontend"
DIST_DIR = DASHBOARD_DIR / "static" / "dist"
MANIFEST_NAME = "build-manifest.json"
SOURCES = ("package.json", "package-lock.json", "tsconfig.json", "vite.config.ts", "index.html")


def source_files() -> list[Path]:
    files = [FRONTEND_DIR / name for name in SOURCES]
    files += sorted(p for p in (FRONTEND_DIR / "src").rglob("*") if p.is_file())
    return files


def sources_hash() -> str:
    """One hash over every source file's path and content (and so over the lockfile)."""
    digest = hashlib.sha256()
    for path in source_files():
        digest.update(path.relative_to(FRONTEND_DIR).as_posix().encode() + b"\0")
        digest.update(path.read_bytes() + b"\0")
    return digest.hexdigest()


def read_manifest(dist: Path = DIST_DIR) -> dict[str, Any] | None:
    return read_json(dist / MANIFEST_NAME)


def is_up_to_date(dist: Path = DIST_DIR) -> bool:
    manifest = read_manifest(dist)
    return bool(
        manifest
        and manifest.get("sources_sha256") == sources_hash()
        and (dist / "index.html").is_file()
    )


def _make(npm: str, work: Path, staging: Path, log: Log) -> str:
    DASHBOARD.npm_ci(npm, work, source_files(), FRONTEND_DIR, log)
    bin_dir = work / "node_modules" / ".bin"
    DASHBOARD.run([str(bin_dir / "tsc"), "--noEmit", "-p", "."], work, "type check", log)
    vite = [str(bin_dir / "vite"), "build", "--outDir", str(staging), "--emptyOutDir"]
    DASHBOARD.run(vite, work, "vite build", log)
    staging.chmod(0o755)  # vite build --emptyOutDir may recreate it
    lock = json.loads((work / "package-lock.json").read_text("utf-8"))
    packages = {
        name.removeprefix("node_modules/"): meta.get("version")
        for name, meta in lock.get("packages", {}).items()
        if name.startswith("node_modules/") and not meta.get("dev")
    }
    manifest = {"sources_sha256": sources_hash(), "runtime_packages": packages}
    (staging / MANIFEST_NAME).write_text(json.dumps(manifest, indent=2) + "\n", "utf-8")
    return "built the page"


DASHBOARD = Assets(
    label="dashboard",
    lockfile=FRONTEND_DIR / "package-lock.json",
    is_up_to_date=is_up_to_date,
    make=_make,
)


def build(dist: Path = DIST_DIR, *, force: bool = False, log: Log = stderr) -> bool:
    """Make dist hold the built page. True if it (re)built it; BuildError on failure."""
    return DASHBOARD.build(dist, force=force, log=log)


def main(argv: list[str] | None = None) -> int:
    return DASHBOARD.main(DIST_DIR, argv)


if __name__ == "__main__":
    sys.exit(main())
