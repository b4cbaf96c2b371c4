"""One builder for the JavaScript the server ships: assets installed from the npm registry
by a committed ``package-lock.json`` at package build time, never committed themselves.

``interfaces/playground/build.py`` (the GraphiQL bundles) and
``interfaces/dashboard/build.py`` (the trader's dashboard) state only what differs: which
sources they hand to ``npm ci``, what they make of ``node_modules`` and how they tell
that their output is up to date.  This module does the rest, the same way for both:

- ``TRADESTATE_SKIP_PLAYGROUND_BUILD=1`` skips every build on purpose (the pages then
  say their assets are not built); without npm the build fails with a clear message;
- ``npm ci --ignore-scripts`` in a temporary directory (npm checks every tarball
  against the lockfile's integrity hashes), with a time limit and the output's tail
  in the error;
- the output is made in a staging directory beside the destination and renamed over
  it only once complete;
- ``python -m interfaces.<asset>.build [--force | --check] [--dest DIR]``.

Standard library only, like the two builders: ``setup.py`` imports them inside pip's
isolated build environment (tests/unit/test_npm_build.py checks it).
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
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

SKIP_ENV = "TRADESTATE_SKIP_PLAYGROUND_BUILD"
NPM_CI_ARGS = ["ci", "--ignore-scripts", "--no-audit", "--no-fund", "--prefer-offline"]
TIMEOUT_SECONDS = 900

Log = Callable[[str], None]


class BuildError(RuntimeError):
    """The assets could not be built."""


def stderr(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def read_json(path: Path) -> dict[str, Any] | None:
    """A JSON object from `path`; None if it is missing or unreadable."""
    try:
        found = json.loads(path.read_text("utf-8"))
    except (OSError, ValueError):
        return None
    return found if isinstance(found, dict) else None


@dataclass(frozen=True)
class Assets:
    """What one builder states: its name in messages, the lockfile that pins its packages,
    how to tell its output is up to date and how to make it."""

    label: str  # "playground", "dashboard": the prefix of every message
    lockfile: Path  # for the messages: what pins the packages
    is_up_to_date: Callable[[Path], bool]
    # (npm, a scratch directory, the staging directory to fill, log) -> a summary line
    make: Callable[[str, Path, Path, Log], str]
    skip_note: str = ""  # said after the warning when the build is skipped

    def build(self, dest: Path, *, force: bool = False, log: Log = stderr) -> bool:
        """Make `dest` hold the assets. True if it (re)built them, False if they were up
        to date or the build is skipped (SKIP_ENV); BuildError with a readable message
        on failure."""
        dest = Path(dest)
        if os.environ.get(SKIP_ENV, "").strip().lower() in ("1", "true", "yes"):
            log(f"{self.label}: WARNING: {SKIP_ENV} is set, not building it{self.skip_note}")
            return False
        if not force and self.is_up_to_date(dest):
            log(f"{self.label}: {dest} is up to date")
            return False
        npm = self.find_npm()
        dest.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(prefix=f"tradestate-{self.label}-") as scratch:
            staging = Path(tempfile.mkdtemp(prefix=f".{dest.name}-", dir=dest.parent))
            try:
                staging.chmod(0o755)  # mkdtemp makes it 0700
                summary = self.make(npm, Path(scratch), staging, log)
                if dest.exists():
                    shutil.rmtree(dest)
                staging.rename(dest)
            finally:
                shutil.rmtree(staging, ignore_errors=True)
        log(f"{self.label}: {summary} in {dest}")
        return True

    def find_npm(self) -> str:
        npm = os.environ.get("NPM") or shutil.which("npm")
        if not npm:
            raise BuildError(
                f"npm was not found on PATH. The {self.label}'s JavaScript is installed from "
                f"the npm registry at package build time, as pinned by {self.lockfile}. "
                "Install Node.js and npm (Debian: apt-get install npm) or set "
                f"NPM=/path/to/npm. To build without it on purpose, set {SKIP_ENV}=1."
            )
        return npm

    def run(self, cmd: list[str], cwd: Path, what: str, log: Log) -> None:
        """Run `cmd` in `cwd`; BuildError with the output's tail if it fails."""
        log(f"{self.label}: {what}: {' '.join(cmd)}")
        env = {**os.environ, "npm_config_update_notifier": "false", "npm_config_loglevel": "error"}
        try:
            proc = subprocess.run(
                cmd,
                cwd=cwd,
                env=env,
                capture_output=True,
                text=True,
                timeout=TIMEOUT_SECONDS,
                check=False,
            )
        except OSError as exc:
            raise BuildError(f"could not run {cmd[0]}: {exc}") from exc
        except subprocess.TimeoutExpired as exc:
            raise BuildError(f"{' '.join(cmd)} timed out after {exc.timeout}s") from exc
        if proc.returncode != 0:
            tail = "\n".join((proc.stdout + proc.stderr).strip().splitlines()[-40:])
            raise BuildError(
                f"{self.label}: {what} failed (`{' '.join(cmd)}`, exit {proc.returncode}):\n{tail}"
            )

    def npm_ci(self, npm: str, work: Path, sources: Iterable[Path], root: Path, log: Log) -> Path:
        """Copy `sources` (paths under `root`, the lockfile among them) to `work` and
        install exactly what the lockfile pins there; its node_modules."""
        for path in sources:
            target = work / path.relative_to(root)
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(path, target)
        self.run([npm, *NPM_CI_ARGS], work, f"npm ci (lockfile {self.lockfile.name})", log)
        return work / "node_modules"

    def main(self, default_dest: Path, argv: list[str] | None = None) -> int:
        """``python -m interfaces.<asset>.build``: build if not up to date; --force,
        --check (exit 1 unless up to date), --dest."""
        parser = argparse.ArgumentParser(
            prog=f"python -m interfaces.{self.label}.build",
            description=f"Build the {self.label}'s assets pinned by {self.lockfile.name}.",
        )
        parser.add_argument("--force", action="store_true", help="rebuild even if up to date")
        parser.add_argument("--check", action="store_true", help="exit 1 unless up to date")
        parser.add_argument("--dest", type=Path, default=default_dest, help="output directory")
        args = parser.parse_args(argv)
        if args.check:
            ok = self.is_up_to_date(args.dest)
            stderr(f"{self.label}: {args.dest} is {'up to date' if ok else 'MISSING/STALE'}")
            return 0 if ok else 1
        try:
            self.build(args.dest, force=args.force)
        except BuildError as exc:
            stderr(f"error: {exc}")
            return 1
        return 0
