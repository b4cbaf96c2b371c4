"""Fresh stores per hypothesis example: the in-memory application, or a real
SQLite file with migrated read models (both cheap enough to make per example)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from uuid import uuid4

from application.commands import Commands
from application.store import Store
from infrastructure.settings import load_settings
from interfaces.composition import System, build_system


@contextmanager
def memory_app() -> Iterator[Commands]:
    app = Commands.build(Store())
    try:
        yield app
    finally:
        app.store.close()


@contextmanager
def sqlite_system(
    directory: Path, settings: dict[str, Any] | None = None, **kwargs: Any
) -> Iterator[System]:
    """A system on a new SQLite file in `directory` (with `settings`), removed afterwards."""
    path = directory / f"property-{uuid4().hex[:12]}.db"
    loaded = load_settings(database_url=f"sqlite:///{path}", **(settings or {}))
    system = build_system(loaded, **kwargs)
    try:
        yield system
    finally:
        system.close()
        for leftover in directory.glob(f"{path.name}*"):
            leftover.unlink()
