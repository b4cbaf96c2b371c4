"""Process policies in every deployment, one active copy per store.

A PolicyThread follows the log for one policy (application/engine/log.py's
LogFollower) while it holds that policy's store-wide lock, and stands by
otherwise, taking over when the holder goes (ADR 013). The lock is an advisory
lock on PostgreSQL (held by a session: a killed process lets go at once), a
file lock beside a SQLite file (the kernel drops it with the process), and a
plain lock for an in-memory store (one process by definition).

Each take-over builds a new follower, whose `recover()` rebuilds the policy's
state from the log: another process may have acted meanwhile.
"""

from __future__ import annotations

import contextlib
import fcntl
import threading
import zlib
from pathlib import Path
from typing import IO, Any, Protocol

import structlog
from eventsourcing.persistence import ApplicationRecorder
from sqlalchemy import Connection, Engine, func, select

from application.engine.log import LogConsumer, LogFollower
from infrastructure.database import DatabaseUrl

log = structlog.get_logger("tradestate.policies")

RETRY_SECONDS = 1.0
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
    def __init__(self, engine: Engine, name: str) -> None:
        self.engine = engine
        self.key = zlib.crc32(f"tradestate:policy:{name}".encode())
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
    """The lock that makes `name` run in one process at a time on this store."""
    if url.is_postgres:
        return AdvisoryLock(engine, name)
    path = url.sqlite_path
    if path in ("", ":memory:") or path.startswith("file::memory:"):
        return LocalLock()
    return FileLock(Path(f"{path}.{name}.lock"))


class PolicyThread:
    """Runs one policy (a LogConsumer) while this process holds its lock."""

    def __init__(
        self,
        recorder: ApplicationRecorder,
        consumer: LogConsumer,
        lock: StoreLock,
        *,
        retry: float = RETRY_SECONDS,
        check: float = CHECK_SECONDS,
    ) -> None:
        self.recorder = recorder
        self.consumer = consumer
        self.lock = lock
        self.retry = retry
        self.check = check
        self.follower: LogFollower | None = None
        self.active = threading.Event()
        self._stopped = threading.Event()
        self._thread: threading.Thread | None = None

    @property
    def running(self) -> bool:
        return self._thread is not None

    def start(self) -> None:
        if self._thread is not None:
            return
        self._stopped.clear()
        self._thread = threading.Thread(
            target=self._run, name=f"policy-{self.consumer.name}", daemon=True
        )
        self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        thread, self._thread = self._thread, None
        self._stopped.set()
        follower = self.follower
        if follower is not None:
            follower.stop()
        if thread is not None:
            thread.join(timeout)

    def _run(self) -> None:
        while not self._stopped.is_set():
            try:
                held = self.lock.acquire()
            except Exception as error:  # database gone: keep trying, say so
                log.warning("policy lock failed", policy=self.consumer.name, error=str(error))
                held = False
            if not held:
                self._stopped.wait(self.retry)
                continue
            try:
                self._follow_while_held()
            finally:
                self.lock.release()

    def _follow_while_held(self) -> None:
        follower = LogFollower(self.recorder, self.consumer, retry_delay=self.retry)
        self.follower = follower
        thread = threading.Thread(
            target=follower.run, name=f"policy-{self.consumer.name}-follow", daemon=True
        )
        thread.start()
        self.active.set()
        log.info("policy active", policy=self.consumer.name)
        try:
            while not self._stopped.wait(self.check):
                if not self.lock.alive():
                    log.warning("policy lock lost; standing by", policy=self.consumer.name)
                    return
        finally:
            self.active.clear()
            follower.stop()
            thread.join(30)
            self.follower = None
