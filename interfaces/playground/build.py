"""Fetch the GraphiQL playground's third-party bundles from the npm registry.

The playground page (``graphiql.html``) loads GraphiQL 3.8, React 18 and the
explorer plugin as UMD bundles served by tradestate itself.  Those bundles are
not committed: this module installs exactly what ``package-lock.json`` pins
(``npm ci --ignore-scripts`` in a temporary directory, so npm verifies every
tarball against the lockfile's integrity hashes) and copies only the files the
page needs into ``static/vendor/``, together with a ``manifest.json`` (lockfile
hash, package versions, file hashes) and the packages' licence texts.

It runs from the package build (``setup.py`` hooks ``build`` / ``build_py`` and
editable installs) and by hand::

    python -m interfaces.playground.build            # build if not up to date
    python -m interfaces.playground.build --force    # always rebuild
    python -m interfaces.playground.build --check    # exit 1 unless up to date

Without npm the build fails with a clear message instead of shipping a page
whose scripts are missing.  ``TRADESTATE_SKIP_PLAYGROUND_BUILD=1`` skips it
explicitly (the served page then says the assets are not built).

This file must import nothing outside the standard library: ``setup.py`` loads
it by path inside pip's isolated build environment.
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

PLAYGROUND_DIR = Path(__file__).resolve().parent
PACKAGE_JSON = PLAYGROUND_DIR / "package.json"
LOCKFILE = PLAYGROUND_DIR / "package-lock.json"
VENDOR_DIR = PLAYGROUND_DIR / "static" / "vendor"
MANIFEST_NAME = "manifest.json"
LICENSES_NAME = "THIRD_PARTY_LICENSES.txt"
SKIP_ENV = "TRADESTATE_SKIP_PLAYGROUND_BUILD"

# vendor file name -> (npm package, path inside node_modules).  Same set as
# strawberry's built-in GraphiQL page minus js-cookie (only used there for
# Django's csrftoken cookie).
VENDOR_FILES: dict[str, tuple[str, str]] = {
    "react.production.min.js": ("react", "react/umd/react.production.min.js"),
    "react-dom.production.min.js": ("react-dom", "react-dom/umd/react-dom.production.min.js"),
    "graphiql.min.js": ("graphiql", "graphiql/graphiql.min.js"),
    "graphiql.min.css": ("graphiql", "graphiql/graphiql.min.css"),
    "plugin-explorer.umd.js": (
        "@graphiql/plugin-explorer",
        "@graphiql/plugin-explorer/dist/index.umd.js",
    ),
    "plugin-explorer.css": (
        "@graphiql/plugin-explorer",
        "@graphiql/plugin-explorer/dist/style.css",
    ),
}

NPM_CI_ARGS = ["ci", "--ignore-scripts", "--no-audit", "--no-fund", "--prefer-offline"]

Log = Callable[[str], None]


class BuildError(RuntimeError):
    """The playground assets could not be built."""


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _stderr(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def read_manifest(vendor_dir: Path = VENDOR_DIR) -> dict | None:
    try:
        return json.loads((vendor_dir / MANIFEST_NAME).read_text("utf-8"))
    except (OSError, ValueError):
        return None


def is_up_to_date(vendor_dir: Path = VENDOR_DIR) -> bool:
    """True when vendor_dir holds every bundle, built from the current lockfile."""
    manifest = read_manifest(vendor_dir)
    if not manifest or manifest.get("lock_sha256") != _sha256(LOCKFILE):
        return False
    files = manifest.get("files", {})
    for name in VENDOR_FILES:
        path = vendor_dir / name
        if name not in files or not path.is_file() or _sha256(path) != files[name]["sha256"]:
            return False
    return True


def find_npm() -> str:
    npm = os.environ.get("NPM") or shutil.which("npm")
    if not npm:
        raise BuildError(
            "npm was not found on PATH. The GraphiQL playground's bundles (graphiql, "
            "react, react-dom) are fetched from the npm registry at build time, as "
            f"pinned by {LOCKFILE}. Install Node.js and npm (Debian: apt-get install "
            "npm) or set NPM=/path/to/npm, then build again. To build without the "
            f"playground on purpose, set {SKIP_ENV}=1."
        )
    return npm


def _npm_ci(npm: str, workdir: Path, log: Log) -> Path:
    shutil.copy2(PACKAGE_JSON, workdir / "package.json")
    shutil.copy2(LOCKFILE, workdir / "package-lock.json")
    cmd = [npm, *NPM_CI_ARGS]
    log(f"playground: running {' '.join(cmd)} (lockfile {LOCKFILE.name})")
    env = {**os.environ, "npm_config_update_notifier": "false", "npm_config_loglevel": "error"}
    try:
        proc = subprocess.run(
            cmd, cwd=workdir, env=env, capture_output=True, text=True, timeout=900, check=False
        )
    except OSError as exc:
        raise BuildError(f"could not run {npm}: {exc}") from exc
    except subprocess.TimeoutExpired as exc:
        raise BuildError(f"{' '.join(cmd)} timed out after {exc.timeout}s") from exc
    if proc.returncode != 0:
        output = (proc.stdout + proc.stderr).strip().splitlines()
        tail = "\n".join(output[-40:])
        raise BuildError(
            f"`{' '.join(cmd)}` failed with exit code {proc.returncode} while fetching the "
            f"GraphiQL playground bundles from the npm registry:\n{tail}"
        )
    return workdir / "node_modules"


def _licenses(node_modules: Path, packages: dict[str, str]) -> str:
    parts = [
        "Third-party software bundled in this directory (fetched from the npm registry "
        "by interfaces/playground/package-lock.json).\n"
    ]
    for package, version in sorted(packages.items()):
        pkg_dir = node_modules / package
        meta = json.loads((pkg_dir / "package.json").read_text("utf-8"))
        parts.append(f"\n{'=' * 72}\n{package}@{version}  license: {meta.get('license', '?')}\n")
        for candidate in ("LICENSE", "LICENSE.md", "LICENSE.txt", "license"):
            if (pkg_dir / candidate).is_file():
                parts.append("\n" + (pkg_dir / candidate).read_text("utf-8", "replace").strip())
                break
        else:
            parts.append("(no licence file in the package; see its package.json)")
        parts.append("\n")
    return "".join(parts)


def build(vendor_dir: Path = VENDOR_DIR, *, force: bool = False, log: Log = _stderr) -> bool:
    """Make vendor_dir hold the bundles pinned by the lockfile.

    Returns True if it (re)built them, False if they were already up to date
    or the build was skipped with TRADESTATE_SKIP_PLAYGROUND_BUILD.  Raises
    BuildError with a readable message on failure.
    """
    vendor_dir = Path(vendor_dir)
    if os.environ.get(SKIP_ENV, "").strip().lower() in ("1", "true", "yes"):
        log(
            f"playground: WARNING: {SKIP_ENV} is set, not fetching the GraphiQL bundles; "
            "the playground page will report that its assets are missing."
        )
        return False
    if not force and is_up_to_date(vendor_dir):
        log(f"playground: bundles in {vendor_dir} are up to date")
        return False
    npm = find_npm()
    vendor_dir.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="tradestate-playground-") as tmp:
        node_modules = _npm_ci(npm, Path(tmp), log)
        staging = Path(tempfile.mkdtemp(prefix=".vendor-", dir=vendor_dir.parent))
        staging.chmod(0o755)  # mkdtemp makes it 0700
        try:
            files: dict[str, dict[str, object]] = {}
            packages: dict[str, str] = {}
            for name, (package, rel) in VENDOR_FILES.items():
                src = node_modules / rel
                if not src.is_file():
                    raise BuildError(f"npm installed {package} but {rel} is missing from it")
                version = json.loads((node_modules / package / "package.json").read_text())[
                    "version"
                ]
                packages[package] = version
                shutil.copyfile(src, staging / name)
                files[name] = {
                    "package": package,
                    "version": version,
                    "source": rel,
                    "size": src.stat().st_size,
                    "sha256": _sha256(staging / name),
                }
            (staging / LICENSES_NAME).write_text(_licenses(node_modules, packages), "utf-8")
            manifest = {
                "lock_sha256": _sha256(LOCKFILE),
                "packages": packages,
                "files": files,
            }
            (staging / MANIFEST_NAME).write_text(json.dumps(manifest, indent=2) + "\n", "utf-8")
            if vendor_dir.exists():
                shutil.rmtree(vendor_dir)
            staging.rename(vendor_dir)
        finally:
            shutil.rmtree(staging, ignore_errors=True)
    summary = ", ".join(f"{p}@{v}" for p, v in sorted(packages.items()))
    log(f"playground: wrote {len(files)} bundles ({summary}) to {vendor_dir}")
    return True


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m interfaces.playground.build",
        description="Fetch the GraphiQL playground bundles pinned by package-lock.json.",
    )
    parser.add_argument("--force", action="store_true", help="rebuild even if up to date")
    parser.add_argument("--check", action="store_true", help="exit 1 unless up to date")
    parser.add_argument("--dest", type=Path, default=VENDOR_DIR, help="vendor directory")
    args = parser.parse_args(argv)
    if args.check:
        ok = is_up_to_date(args.dest)
        _stderr(f"playground: bundles in {args.dest} are {'up to date' if ok else 'MISSING/STALE'}")
        return 0 if ok else 1
    try:
        build(args.dest, force=args.force)
    except BuildError as exc:
        _stderr(f"error: {exc}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
