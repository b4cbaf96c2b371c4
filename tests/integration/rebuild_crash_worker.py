"""A blue/green rebuild of every projection that kills itself (SIGKILL) on the way.

    python -m tests.integration.rebuild_crash_worker URL PROJECTION POINT N

Points, both in PROJECTION's rebuild:
- flush: in the Nth batch's transaction, after its rows are written and before its
  tracking moves (nothing of that batch is committed);
- batch: right after the Nth batch committed (rows and tracking of N batches are in).
Projections rebuilt before PROJECTION have been swapped in; PROJECTION and the
ones after it have not. Exits 3 if the point was never reached.
"""

from __future__ import annotations

import os
import signal
import sys
from typing import Any

from infrastructure.projections import rebuild as rebuild_module
from infrastructure.projections.store import SqlRowStore
from infrastructure.settings import load_settings
from interfaces.composition import build_system

PAGE = 10


def die() -> None:
    os.kill(os.getpid(), signal.SIGKILL)


def install_crash(projection: str, point: str, count: int) -> Any:
    """Patch the flush or return the progress callback that dies at the point."""
    tables = set(rebuild_module.BY_NAME[projection].tables)
    seen = 0

    def tick() -> None:
        nonlocal seen
        seen += 1
        if seen == count:
            die()

    if point == "flush":
        flush = SqlRowStore.flush

        def flush_then_maybe_die(store: SqlRowStore) -> Any:
            written = flush(store)
            if set(store.tables) == tables:
                tick()
            return written

        SqlRowStore.flush = flush_then_maybe_die  # type: ignore[assignment]  # a crash point
        return None

    def progress(name: str, _upto: int, _head: int) -> None:
        if name == projection:
            tick()

    return progress


def main(url: str, projection: str, point: str, count: int) -> int:
    progress = install_crash(projection, point, count)
    system = build_system(load_settings(database_url=url))
    try:
        rebuild_module.rebuild(
            system.engine, system.app.recorder, system.app.mapper, progress=progress, page=PAGE
        )
    finally:
        system.close()
    return 3


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])))
