"""setuptools hooks: fetch the GraphiQL playground bundles and build the dashboard.

Metadata lives in pyproject.toml.  This file only adds the ``build_playground``
command (interfaces/playground/build.py on interfaces/npm_build.py: ``npm ci`` by the committed
package-lock.json, copying the UMD bundles to
interfaces/playground/static/vendor/, which is gitignored) and runs it:

- ``pip install .`` / ``python -m build``: bdist_wheel -> build, whose first
  sub-command is build_playground; build_py then ships static/vendor/* as
  package data (glob in pyproject.toml).
- ``pip install -e .``: setuptools' editable_wheel runs build's sub-commands
  itself, so build_playground runs there too (through ``run_command``, so a
  failure such as a missing npm fails the install instead of being downgraded
  to a warning as a failing custom build_py would be); the editable install
  then reads the bundles from the source tree.

``build_dashboard`` does the same for the trader's dashboard
(interfaces/dashboard/build.py: ``npm ci`` by frontend/package-lock.json, ``tsc``,
``vite build`` into interfaces/dashboard/static/dist/, gitignored), right after
build_playground.
"""

from __future__ import annotations

import importlib
import sys
from pathlib import Path

from setuptools import Command, setup
from setuptools.command.build import build as _build
from setuptools.command.build_py import build_py as _build_py
from setuptools.errors import ExecError

ROOT = Path(__file__).resolve().parent


def _load_builder(module: str):
    # The builders and interfaces/npm_build.py (and the package __init__ files on the
    # way) import only the standard library: pip's isolated build environment has none
    # of the project's dependencies (tests/unit/test_npm_build.py checks it).
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    return importlib.import_module(module)


class build_playground(Command):
    description = "fetch the GraphiQL playground bundles from the npm registry by package-lock.json"
    user_options = [("force", "f", "rebuild even if up to date")]
    boolean_options = ["force"]
    builder = "interfaces.playground.build"
    what = "the GraphiQL playground"

    def initialize_options(self) -> None:
        self.force = False

    def finalize_options(self) -> None:
        pass

    def run(self) -> None:
        builder = _load_builder(self.builder)
        try:
            builder.build(force=bool(self.force), log=lambda msg: print(msg, flush=True))
        except builder.BuildError as exc:
            raise ExecError(f"building {self.what} failed: {exc}") from exc


class build_dashboard(build_playground):
    description = "build the dashboard (npm ci by package-lock.json, tsc, vite build)"
    builder = "interfaces.dashboard.build"
    what = "the dashboard"


class build(_build):
    sub_commands = [("build_playground", None), ("build_dashboard", None), *_build.sub_commands]


class build_py(_build_py):
    def run(self) -> None:
        self.run_command("build_playground")  # no-op if build already ran it
        self.run_command("build_dashboard")
        # package data may have been listed before the bundles existed: list it again
        self.__dict__.pop("data_files", None)
        super().run()


setup(
    cmdclass={
        "build": build,
        "build_py": build_py,
        "build_playground": build_playground,
        "build_dashboard": build_dashboard,
    }
)
