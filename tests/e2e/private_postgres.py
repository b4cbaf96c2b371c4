"""A private PostgreSQL cluster for tests that stop and start their server.

`initdb` into a temporary directory, `pg_ctl start` on a free loopback port with
trust auth and its socket in that directory; never the shared server. As root,
the cluster runs as the `postgres` user (PostgreSQL refuses to run as root).
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.e2e.server import free_port


def postgres_bin() -> Path | None:
    """The newest installed PostgreSQL's bin directory that has initdb and pg_ctl."""
    found = sorted(
        glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(Path(p).parts[-3])
    )
    return Path(found[-1]).parent if found else None


@dataclass
class PrivateCluster:
    bin: Path
    home: Path
    port: int
    as_user: list[str]

    @property
    def data(self) -> Path:
        return self.home / "data"

    @property
    def url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def _run(self, tool: str, *args: str) -> None:
        command = [*self.as_user, str(self.bin / tool), *args]
        result = subprocess.run(command, capture_output=True, text=True, timeout=60)
        if result.returncode != 0:
            raise RuntimeError(f"{tool} failed: {result.stdout}{result.stderr}")

    def init(self) -> None:
        self._run("initdb", "-D", str(self.data), "-U", "postgres", "--auth=trust", "--no-sync")

    def start(self) -> None:
        options = f"-k {self.home} -p {self.port} -c listen_addresses=127.0.0.1"
        log = str(self.home / "postgres.log")
        self._run("pg_ctl", "-D", str(self.data), "-l", log, "-o", options, "-w", "start")

    def stop(self, mode: str = "fast") -> None:
        self._run("pg_ctl", "-D", str(self.data), "-m", mode, "-w", "stop")

    def running(self) -> bool:
        return (self.data / "postmaster.pid").exists()


def _owner_prefix(home: Path) -> list[str]:
    if os.geteuid() != 0:
        return []
    try:
        user = pwd.getpwnam("postgres")
    except KeyError:
        pytest.skip("running as root and there is no postgres user to run a private cluster")
    os.chown(home, user.pw_uid, user.pw_gid)
    return ["runuser", "-u", "postgres", "--"]


@pytest.fixture(scope="module")
def private_postgres() -> Iterator[PrivateCluster]:
    """A started private cluster (database `postgres`), stopped and removed after."""
    binaries = postgres_bin()
    if binaries is None or not (binaries / "pg_ctl").exists():
        pytest.skip("no PostgreSQL server binaries (/usr/lib/postgresql/*/bin/initdb, pg_ctl)")
    home = Path(tempfile.mkdtemp(prefix="tradestate-pg-"))
    try:
        cluster = PrivateCluster(binaries, home, free_port(), _owner_prefix(home))
        cluster.init()
        cluster.start()
        try:
            yield cluster
        finally:
            if cluster.running():
                cluster.stop("immediate")
    finally:
        shutil.rmtree(home, ignore_errors=True)
