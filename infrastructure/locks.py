"""Store-wide locks: what makes a projection runner, the transparency tree's
follower and each process policy active in one process at a time (ADR 021).

A `StoreLock` is an advisory lock on PostgreSQL (held by a session: a killed
process lets go at once), a file lock beside a SQLite file (the kernel drops it
with the process), or a plain lock for an in-memory store (one process by
definition). `LockHolding` is how a thread holds one: it takes the lock when it
is free, tells its owner it took over (`taken`: another process may have moved
on meanwhile, so what the owner remembers is forgotten), checks now and then
that the lock is still held, and lets go after a failure and at stop.
"""

from __future__ import annotations

import contextlib
import fcntl
import threading
import time
import zlib
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any, Protocol

import structlog
from sqlalchemy import Connection, Engine, func, select

from infrastructure.database import DatabaseUrl

log = structlog.get_logger("tradestate.locks")

#: How often a holder checks that its lock is still held (its session still there).
CHECK_SECONDS = 2.0


class StoreLock(Protocol):
    def acquire(self) -> bool:
        """Take the lock if nobody holds it; True when this process now holds it."""
        ...

    def alive(self) -> bool:
        """Still held (on PostgreSQL: the session holding it is still there)."""
        ...

    def release(self) -> None: ...

    def held_anywhere(self) -> bool:
        """Whether some process (this one included) holds the lock now."""
        ...


class AdvisoryLock:
    """A PostgreSQL session-level advisory lock on `key` (hashed to 32 bits), held by
    a connection of its own."""

    def __init__(self, engine: Engine, key: str) -> None:
        self.engine = engine
        self.key = zlib.crc32(key.encode())
        self._connection: Connection | None = None

    def _try(self, connection: Connection) -> bool:
        got = bool(connection.execute(select(func.pg_try_advisory_lock(self.key))).scalar())
        connection.commit()
        return got

    def _unlock(self, connection: Connection) -> None:
        connection.execute(select(func.pg_advisory_unlock(self.key)))
        connection.commit()

    def acquire(self) -> bool:
        connection = self.engine.connect()
        try:
            if self._try(connection):
                self._connection = connection
                return True
        except Exception:
            connection.invalidate()
            raise
        connection.close()
        return False

    def alive(self) -> bool:
        if self._connection is None:
            return False
        try:
            self._connection.execute(select(1))
            self._connection.commit()
            return True
        except Exception:
            return False

    def release(self) -> None:
        connection, self._connection = self._connection, None
        if connection is None:
            return
        try:
            self._unlock(connection)
            connection.close()
        except Exception:
            connection.invalidate()  # the session (and its lock) ends with it

    def held_anywhere(self) -> bool:
        with self.engine.connect() as connection:
            if not self._try(connection):
                return True
            self._unlock(connection)
            return False


class FileLock:
    """flock(2) on `path`: per open file, so a second open in this process sees it too."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._file: IO[Any] | None = None

    def _open_locked(self) -> IO[Any] | None:
        file = self.path.open("a+")
        try:
            fcntl.flock(file, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            file.close()
            return None
        return file

    def acquire(self) -> bool:
        self._file = self._open_locked()
        return self._file is not None

    def alive(self) -> bool:
        return self._file is not None

    def release(self) -> None:
        file, self._file = self._file, None
        if file is not None:
            file.close()  # closing the last descriptor drops the lock

    def held_anywhere(self) -> bool:
        file = self._open_locked()
        if file is None:
            return True
        file.close()
        return False


class LocalLock:
    def __init__(self) -> None:
        self._lock = threading.Lock()

    def acquire(self) -> bool:
        return self._lock.acquire(blocking=False)

    def alive(self) -> bool:
        return self._lock.locked()

    def release(self) -> None:
        with contextlib.suppress(RuntimeError):
            self._lock.release()

    def held_anywhere(self) -> bool:
        return self._lock.locked()


def store_lock(url: DatabaseUrl, engine: Engine, name: str) -> StoreLock:
    """The lock that makes policy `name` run in one process at a time on this store."""
    if url.is_postgres:
        return AdvisoryLock(engine, f"tradestate:policy:{name}")
    path = url.sqlite_path
    if path in ("", ":memory:") or path.startswith("file::memory:"):
        return LocalLock()
    return FileLock(Path(f"{path}.{name}.lock"))


class LockHolding:
    """One thread's hold on a `StoreLock` (None: nothing to hold, always active).

    `hold()` before each piece of work: True while the lock is held, taking it when
    it is free (and then calling `taken`) and checking every `check` seconds that it
    is still held; `release()` after a failure (the next `hold()` takes it anew) and
    at stop. Call both from the holding thread only."""

    def __init__(
        self,
        lock: StoreLock | None,
        name: str,
        *,
        taken: Callable[[], None] = lambda: None,
        check: float = CHECK_SECONDS,
    ) -> None:
        self.lock = lock
        self.name = name
        self.taken = taken
        self.check = check
        self.held = False
        self._checked = 0.0

    @property
    def active(self) -> bool:
        """Whether the holder may work now (it holds the lock, or there is none)."""
        return self.lock is None or self.held

    def hold(self) -> bool:
        if self.lock is None:
            return True
        if self.held:
            if time.monotonic() - self._checked < self.check:
                return True
            return self.still_held()
        try:
            self.held = self.lock.acquire()
        except Exception as error:  # database gone: keep trying, say so
            log.warning("lock not taken", holder=self.name, error=str(error))
            return False
        if self.held:
            self._checked = time.monotonic()
            self.taken()  # another process may have moved on meanwhile
            log.info("lock taken; active", holder=self.name)
        return self.held

    def still_held(self) -> bool:
        """Check now that the lock is held; if it was lost, let it go."""
        if self.lock is None:
            return True
        if not self.held:
            return False
        if self.lock.alive():
            self._checked = time.monotonic()
            return True
        log.warning("lock lost; standing by", holder=self.name)
        self.release()
        return False

    def release(self) -> None:
        if self.lock is None or not self.held:
            return
        self.held = False
        self.lock.release()
