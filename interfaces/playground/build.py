"""Fetch the GraphiQL playground's third-party bundles from the npm registry.

The playground page (``graphiql.html``) loads GraphiQL 3.8, React 18 and the
explorer plugin as UMD bundles served by tradestate itself.  Those bundles are
not committed: the shared npm builder (``interfaces/npm_build.py``) installs exactly
what ``package-lock.json`` pins in a temporary directory; this module copies only the
files the page needs into ``static/vendor/``, together with a ``manifest.json``
(lockfile hash, package versions, file hashes) and the packages' licence texts.

It runs from the package build (``setup.py`` hooks ``build`` / ``build_py`` and
editable installs) and by hand::

    python -m interfaces.playground.build            # build if not up to date
    python -m interfaces.playground.build --force    # always rebuild
    python -m interfaces.playground.build --check    # exit 1 unless up to date

Without npm the build fails with a clear message instead of shipping a page
whose scripts are missing.  ``TRADESTATE_SKIP_PLAYGROUND_BUILD=1`` skips it
explicitly (the served page then says the assets are not built).

Standard library only: ``setup.py`` imports it in pip's isolated build environment.
"""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path
from typing import Any

from interfaces.npm_build import Assets, BuildError, Log, read_json, sha256_file, stderr

__all__ = ["BuildError", "build", "is_up_to_date", "main", "read_manifest"]

PLAYGROUND_DIR = Path(__file__).resolve().parent
PACKAGE_JSON = PLAYGROUND_DIR / "package.json"
LOCKFILE = PLAYGROUND_DIR / "package-lock.json"
VENDOR_DIR = PLAYGROUND_DIR / "static" / "vendor"
MANIFEST_NAME = "manifest.json"
LICENSES_NAME = "THIRD_PARTY_LICENSES.txt"

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


def read_manifest(vendor_dir: Path = VENDOR_DIR) -> dict[str, Any] | None:
    return read_json(vendor_dir / MANIFEST_NAME)


def is_up_to_date(vendor_dir: Path = VENDOR_DIR) -> bool:
    """True when vendor_dir holds every bundle, built from the current lockfile."""
    manifest = read_manifest(vendor_dir)
    if not manifest or manifest.get("lock_sha256") != sha256_file(LOCKFILE):
        return False
    files = manifest.get("files", {})
    for name in VENDOR_FILES:
        path = vendor_dir / name
        if name not in files or not path.is_file() or sha256_file(path) != files[name]["sha256"]:
            return False
    return True


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


def _make(npm: str, work: Path, staging: Path, log: Log) -> str:
    node_modules = PLAYGROUND.npm_ci(npm, work, [PACKAGE_JSON, LOCKFILE], PLAYGROUND_DIR, log)
    files: dict[str, dict[str, object]] = {}
    packages: dict[str, str] = {}
    for name, (package, rel) in VENDOR_FILES.items():
        src = node_modules / rel
        if not src.is_file():
            raise BuildError(f"npm installed {package} but {rel} is missing from it")
        version = json.loads((node_modules / package / "package.json").read_text())["version"]
        packages[package] = version
        shutil.copyfile(src, staging / name)
        files[name] = {
            "package": package,
            "version": version,
            "source": rel,
            "size": src.stat().st_size,
            "sha256": sha256_file(staging / name),
        }
    (staging / LICENSES_NAME).write_text(_licenses(node_modules, packages), "utf-8")
    manifest = {"lock_sha256": sha256_file(LOCKFILE), "packages": packages, "files": files}
    (staging / MANIFEST_NAME).write_text(json.dumps(manifest, indent=2) + "\n", "utf-8")
    summary = ", ".join(f"{p}@{v}" for p, v in sorted(packages.items()))
    return f"wrote {len(files)} bundles ({summary})"


PLAYGROUND = Assets(
    label="playground",
    lockfile=LOCKFILE,
    is_up_to_date=is_up_to_date,
    make=_make,
    skip_note="; the playground page will report that its assets are missing",
)


def build(vendor_dir: Path = VENDOR_DIR, *, force: bool = False, log: Log = stderr) -> bool:
    """Make vendor_dir hold the bundles pinned by the lockfile: True if it (re)built
    them, False if they were up to date or the build is skipped; BuildError on failure."""
    return PLAYGROUND.build(vendor_dir, force=force, log=log)


def main(argv: list[str] | None = None) -> int:
    return PLAYGROUND.main(VENDOR_DIR, argv)


if __name__ == "__main__":
    sys.exit(main())
