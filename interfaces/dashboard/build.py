"""Build the trader's dashboard (``/dashboard``) from its TypeScript sources.

``frontend/`` holds the page's sources (Preact, graphql-ws, lightweight-charts,
TypeScript, Vite), pinned by ``frontend/package-lock.json``.  This module copies
the sources to a temporary directory, installs exactly what the lockfile pins
(``npm ci --ignore-scripts``: npm checks every tarball against its integrity
hash), type-checks (``tsc --noEmit``), bundles (``vite build``) and moves the
result to ``static/dist/`` (gitignored, shipped as package data) with a
``manifest.json`` recording the hash of the sources and lockfile it came from.

It runs from the package build (``setup.py``: ``build_dashboard``, beside
``build_playground``) and by hand::

    python -m interfaces.dashboard.build            # build if not up to date
    python -m interfaces.dashboard.build --force    # always rebuild
    python -m interfaces.dashboard.build --check    # exit 1 unless up to date

``TRADESTATE_SKIP_PLAYGROUND_BUILD=1`` skips it too (the page then says its
assets are not built).  Standard library only: ``setup.py`` loads it by path.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

DASHBOARD_DIR = Path(__file__).resolve().parent
FRONTEND_DIR = DASHBOARD_DIR / "frontend"
DIST_DIR = DASHBOARD_DIR / "static" / "dist"
MANIFEST_NAME = "build-manifest.json"
SKIP_ENV = "TRADESTATE_SKIP_PLAYGROUND_BUILD"
SOURCES = ("package.json", "package-lock.json", "tsconfig.json", "vite.config.ts", "index.html")
NPM_CI_ARGS = ["ci", "--ignore-scripts", "--no-audit", "--no-fund", "--prefer-offline"]

Log = Callable[[str], None]


class BuildError(RuntimeError):
    """The dashboard could not be built."""


def _stderr(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


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


def read_manifest(dist: Path = DIST_DIR) -> dict | None:
    try:
        return json.loads((dist / MANIFEST_NAME).read_text("utf-8"))
    except (OSError, ValueError):
        return None


def is_up_to_date(dist: Path = DIST_DIR) -> bool:
    manifest = read_manifest(dist)
    return bool(
        manifest
        and manifest.get("sources_sha256") == sources_hash()
        and (dist / "index.html").is_file()
    )


def _run(cmd: list[str], cwd: Path, what: str, log: Log) -> None:
    log(f"dashboard: {what}: {' '.join(cmd)}")
    env = {**os.environ, "npm_config_update_notifier": "false", "npm_config_loglevel": "error"}
    try:
        proc = subprocess.run(
            cmd, cwd=cwd, env=env, capture_output=True, text=True, timeout=900, check=False
        )
    except OSError as exc:
        raise BuildError(f"could not run {cmd[0]}: {exc}") from exc
    except subprocess.TimeoutExpired as exc:
        raise BuildError(f"{' '.join(cmd)} timed out after {exc.timeout}s") from exc
    if proc.returncode != 0:
        tail = "\n".join((proc.stdout + proc.stderr).strip().splitlines()[-40:])
        raise BuildError(f"{what} failed (`{' '.join(cmd)}`, exit {proc.returncode}):\n{tail}")


def find_npm() -> str:
    npm = os.environ.get("NPM") or shutil.which("npm")
    if not npm:
        raise BuildError(
            "npm was not found on PATH. The dashboard's JavaScript is built at package build "
            "time from the npm registry, as pinned by interfaces/dashboard/frontend/"
            "package-lock.json. Install Node.js and npm (Debian: apt-get install npm) or set "
            f"NPM=/path/to/npm. To build without it on purpose, set {SKIP_ENV}=1."
        )
    return npm


def build(dist: Path = DIST_DIR, *, force: bool = False, log: Log = _stderr) -> bool:
    """Make dist hold the built page. True if it (re)built it; BuildError on failure."""
    dist = Path(dist)
    if os.environ.get(SKIP_ENV, "").strip().lower() in ("1", "true", "yes"):
        log(f"dashboard: WARNING: {SKIP_ENV} is set, not building the dashboard")
        return False
    if not force and is_up_to_date(dist):
        log(f"dashboard: {dist} is up to date")
        return False
    npm = find_npm()
    dist.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="tradestate-dashboard-") as tmp:
        work = Path(tmp)
        for path in source_files():
            target = work / path.relative_to(FRONTEND_DIR)
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(path, target)
        _run([npm, *NPM_CI_ARGS], work, "npm ci (lockfile package-lock.json)", log)
        bin_dir = work / "node_modules" / ".bin"
        _run([str(bin_dir / "tsc"), "--noEmit", "-p", "."], work, "type check", log)
        staging = Path(tempfile.mkdtemp(prefix=".dist-", dir=dist.parent))
        try:
            _run(
                [str(bin_dir / "vite"), "build", "--outDir", str(staging), "--emptyOutDir"],
                work,
                "vite build",
                log,
            )
            staging.chmod(0o755)
            lock = json.loads((work / "package-lock.json").read_text("utf-8"))
            packages = {
                name.removeprefix("node_modules/"): meta.get("version")
                for name, meta in lock.get("packages", {}).items()
                if name.startswith("node_modules/") and not meta.get("dev")
            }
            manifest = {"sources_sha256": sources_hash(), "runtime_packages": packages}
            (staging / MANIFEST_NAME).write_text(json.dumps(manifest, indent=2) + "\n", "utf-8")
            if dist.exists():
                shutil.rmtree(dist)
            staging.rename(dist)
        finally:
            shutil.rmtree(staging, ignore_errors=True)
    log(f"dashboard: built {dist}")
    return True


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m interfaces.dashboard.build",
        description="Build the dashboard pinned by frontend/package-lock.json.",
    )
    parser.add_argument("--force", action="store_true", help="rebuild even if up to date")
    parser.add_argument("--check", action="store_true", help="exit 1 unless up to date")
    parser.add_argument("--dest", type=Path, default=DIST_DIR, help="output directory")
    args = parser.parse_args(argv)
    if args.check:
        ok = is_up_to_date(args.dest)
        _stderr(f"dashboard: {args.dest} is {'up to date' if ok else 'MISSING/STALE'}")
        return 0 if ok else 1
    try:
        build(args.dest, force=args.force)
    except BuildError as exc:
        _stderr(f"error: {exc}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
