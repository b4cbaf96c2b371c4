"""`db backup`: a consistent online copy of an embedded (SQLite) store.

Copying the file while a server writes loses what is still in the write-ahead log
(and can tear pages). SQLite's online backup API copies the database as one read
transaction sees it: every committed event up to that instant, the read models and
their tracking at the same instant, while writers carry on (WAL mode). The copy is
written beside the target and renamed into place, so a half-written copy is never
left under the target's name.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
from dataclasses import dataclass
from pathlib import Path

from infrastructure.eventstore import SQLITE_EVENTS_TABLE


@dataclass(frozen=True)
class Backup:
    path: Path
    last_sequence: int  # the last event the copy holds
    bytes: int


class BackupError(Exception):
    """The copy could not be made; nothing was left at the target."""


def backup_sqlite(source: str | Path, target: str | Path) -> Backup:
    """Copy the SQLite store at `source` to `target` (which must not exist)."""
    source, target = Path(source), Path(target)
    if not source.is_file():
        raise BackupError(f"there is no SQLite store at {source}")
    if target.exists():
        raise BackupError(f"{target} exists; choose a new path (a backup never overwrites)")
    if not target.parent.is_dir():
        raise BackupError(f"the directory {target.parent} does not exist")
    partial = target.with_name(f".{target.name}.partial-{os.getpid()}")
    try:
        _copy(source, partial)
        last = _checked(partial)
        partial.replace(target)
    except (sqlite3.Error, OSError) as error:
        raise BackupError(f"the copy failed: {error}") from error
    finally:
        with contextlib.suppress(FileNotFoundError):
            partial.unlink()
    return Backup(path=target, last_sequence=last, bytes=target.stat().st_size)


def _copy(source: Path, target: Path) -> None:
    reader = sqlite3.connect(f"file:{source}?mode=ro", uri=True, timeout=30)
    writer = sqlite3.connect(target)
    try:
        # pages=-1: one step, inside one read transaction, so the copy is one instant
        # of the store; a stepwise copy restarts whenever a writer commits.
        reader.backup(writer, pages=-1)
        # A stand-alone file: no -wal/-shm companions to carry along.
        writer.execute("PRAGMA journal_mode=DELETE")
    finally:
        writer.close()
        reader.close()


def _checked(path: Path) -> int:
    connection = sqlite3.connect(path)
    try:
        (result,) = connection.execute("PRAGMA quick_check").fetchone()
        if result != "ok":
            raise BackupError(f"the copy fails SQLite's quick_check: {result}")
        row = connection.execute(f"SELECT max(rowid) FROM {SQLITE_EVENTS_TABLE}").fetchone()  # noqa: S608 - a constant
    except sqlite3.OperationalError:
        return 0  # a store without events yet
    finally:
        connection.close()
    return int(row[0] or 0)
