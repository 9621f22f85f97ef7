"""A throwaway PostgreSQL cluster of one test's own (initdb in a temporary directory, a free port, trust
auth), to restart or crash at will: the machine's shared cluster serves other test runs and must never be
stopped. Run as the `postgres` OS user when the test runs as root (initdb refuses root)."""

from __future__ import annotations

import contextlib
import glob
import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.support.server import free_port


def _binaries() -> Path | None:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    return Path(found[-1]).parent if found else None


@dataclass
class PrivatePostgres:
    bin_dir: Path
    home: Path  # holds the data directory and the unix socket; owned by the server's user
    port: int
    run_as: list[str]  # the command prefix that runs a binary as the cluster's owner

    @property
    def data(self) -> Path:
        return self.home / "data"

    @property
    def url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/telroute"

    def _run(self, *command: str, timeout: float = 60.0) -> None:
        result = subprocess.run([*self.run_as, *command], capture_output=True, text=True, timeout=timeout, check=False)
        if result.returncode != 0:
            log = self.home / "server.log"
            tail = log.read_text()[-2000:] if log.exists() else ""
            raise RuntimeError(f"{' '.join(command)} exited {result.returncode}: {result.stderr}\n{tail}")

    def _pg_ctl(self, action: str, *options: str) -> None:
        self._run(str(self.bin_dir / "pg_ctl"), action, "-D", str(self.data), "-w", "-t", "60", *options)

    def init(self) -> None:
        self._run(str(self.bin_dir / "initdb"), "-D", str(self.data), "-U", "postgres", "-A", "trust", "--no-sync")
        settings = [
            f"port = {self.port}",
            "listen_addresses = '127.0.0.1'",
            f"unix_socket_directories = '{self.home}'",
            "max_connections = 60",
            "shared_buffers = 32MB",
        ]
        with (self.data / "postgresql.conf").open("a") as conf:
            conf.write("\n".join(settings) + "\n")

    def start(self) -> None:
        self._pg_ctl("start", "-l", str(self.home / "server.log"))

    def stop(self, mode: str = "fast") -> None:
        """`fast` ends the sessions and shuts down cleanly; `immediate` is a crash (recovery at the next start)."""
        self._pg_ctl("stop", "-m", mode)

    def create_database(self, name: str) -> None:
        self._run(str(self.bin_dir / "createdb"), "-h", str(self.home), "-p", str(self.port), "-U", "postgres", name)


def _as_cluster_owner(home: Path) -> list[str]:
    if os.geteuid() != 0:
        return []
    shutil.chown(home, "postgres", "postgres")
    return ["runuser", "-u", "postgres", "--"]


@contextmanager
def private_postgres() -> Iterator[PrivatePostgres]:
    """A running cluster with an empty database `telroute`, stopped (immediately) and removed on exit. Its
    home is under /tmp, not pytest's tmp_path, whose parents the `postgres` user may not enter."""
    bin_dir = _binaries()
    if bin_dir is None:
        pytest.skip(
            "SKIPPED LOUDLY: no PostgreSQL binaries under /usr/lib/postgresql/*/bin: cannot run a private cluster"
        )
    home = Path(tempfile.mkdtemp(prefix="telroute-private-pg-"))
    try:
        cluster = PrivatePostgres(bin_dir, home, free_port(), _as_cluster_owner(home))
        cluster.init()
        cluster.start()
        try:
            cluster.create_database("telroute")
            yield cluster
        finally:
            with contextlib.suppress(RuntimeError):  # already stopped
                cluster.stop("immediate")
    finally:
        shutil.rmtree(home, ignore_errors=True)
