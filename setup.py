"""setuptools hooks: fetch the GraphiQL playground bundles and build the dashboard.

Metadata lives in pyproject.toml.  This file only adds the ``build_playground``
command (interfaces/playground/build.py: ``npm ci`` by the committed
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

import importlib.util
import sys
from pathlib import Path

from setuptools import Command, setup
from setuptools.command.build import build as _build
from setuptools.command.build_py import build_py as _build_py
from setuptools.errors import ExecError

ROOT = Path(__file__).resolve().parent
BUILDER = ROOT / "interfaces" / "playground" / "build.py"
DASHBOARD_BUILDER = ROOT / "interfaces" / "dashboard" / "build.py"


def _load_builder(path: Path = BUILDER):
    # Loaded by path: importing the `interfaces` package would need the project's
    # dependencies, which pip's isolated build environment does not have.
    spec = importlib.util.spec_from_file_location(f"_tradestate_{path.parent.name}_build", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


class build_playground(Command):
    description = "fetch the GraphiQL playground bundles from the npm registry by package-lock.json"
    user_options = [("force", "f", "rebuild even if up to date")]
    boolean_options = ["force"]

    def initialize_options(self) -> None:
        self.force = False

    def finalize_options(self) -> None:
        pass

    def run(self) -> None:
        builder = _load_builder()
        try:
            builder.build(force=bool(self.force), log=lambda msg: print(msg, flush=True))
        except builder.BuildError as exc:
            raise ExecError(f"building the GraphiQL playground failed: {exc}") from exc


class build_dashboard(build_playground):
    description = "build the dashboard (npm ci by package-lock.json, tsc, vite build)"

    def run(self) -> None:
        builder = _load_builder(DASHBOARD_BUILDER)
        try:
            builder.build(force=bool(self.force), log=lambda msg: print(msg, flush=True))
        except builder.BuildError as exc:
            raise ExecError(f"building the dashboard failed: {exc}") from exc


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
