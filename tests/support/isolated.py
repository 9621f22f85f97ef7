"""A telroute deployment of its own for one test module: a data dir and a database no other test's
server touches.

On SQLite that is simply the data dir's file. On PostgreSQL the suite shares one database, and every
running server's worker claims jobs from it; tests that depend on *which* process handles a job
(fast retry settings, a killed server, a server that refuses private targets) get a fresh
PostgreSQL database instead, created here and dropped afterwards.
"""

from __future__ import annotations

import asyncio
import atexit
import json
import shutil
import socket
import subprocess
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any, TypeVar

from telroute.accounts import service as accounts_service
from telroute.kit import db as dbkit
from telroute.kit.clock import system_clock
from telroute.kit.migrate import migrate
from telroute.numbers import service as numbers_service
from telroute.numbers.inventory import generate_inventory
from tests.support import sql_reader
from tests.support.databases import POSTGRES_URL, SQLITE_FILE, database_url_for, with_database
from tests.support.inprocess import InProcessServer
from tests.support.server import Server, base_env, run_cli

Keys = tuple[str, str]
T = TypeVar("T")


def eventually(probe: Callable[[], T | None], *, timeout: float = 15.0, interval: float = 0.05, what: str = "") -> T:
    """Call `probe` until it returns something truthy; that value. AssertionError at the deadline, with
    the last value."""
    deadline = time.monotonic() + timeout
    while True:
        value = probe()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"not within {timeout} s: {what or probe!r}; last value {value!r}")
        time.sleep(interval)


def _psql(url: str, statement: str) -> None:
    subprocess.run(["psql", url, "-qc", statement], check=True, capture_output=True, text=True, timeout=60)


@cache
def _copy_strategy(admin_url: str) -> str:
    """PostgreSQL 15 and later copy a template through the WAL by default: a fifth of the CPU and the time
    with FILE_COPY (a checkpoint and a copy of the files), for the hundreds of databases a run makes."""
    version = subprocess.run(
        ["psql", admin_url, "-Atc", "SHOW server_version_num"], check=True, capture_output=True, text=True, timeout=60
    )
    return " STRATEGY FILE_COPY" if int(version.stdout) >= 150000 else ""


@contextmanager
def isolated_database_url(data_dir: Path, *, template: str = "template1") -> Iterator[str]:
    """A SQLite file in `data_dir`, or a fresh PostgreSQL database copied from `template` (dropped on exit)."""
    if POSTGRES_URL is None:
        yield f"sqlite:///{(data_dir / 'telroute.db').resolve()}"
        return
    name = f"telroute_iso_{uuid.uuid4().hex[:16]}"
    admin = with_database(POSTGRES_URL, "postgres")
    _psql(admin, f"CREATE DATABASE {name} TEMPLATE {template}{_copy_strategy(admin)}")
    url = with_database(POSTGRES_URL, name)
    try:
        yield url
    finally:
        sql_reader.forget(url)
        _psql(admin, f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


@contextmanager
def migrated_database_url(data_dir: Path) -> Iterator[str]:
    """`isolated_database_url` at the schema head: a copy of a database this run migrated once (Alembic
    costs about a second of CPU per fresh database)."""
    with copied_database_url(data_dir, seeded=False) as url:
        yield url


@contextmanager
def copied_database_url(data_dir: Path, *, seeded: bool) -> Iterator[str]:
    """A database of `data_dir`'s own, copied from this run's template (`_sqlite_template`, `_postgres_template`)."""
    if POSTGRES_URL is None:
        data_dir.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(_sqlite_template(seeded), data_dir / SQLITE_FILE)
        yield database_url_for(data_dir)
        return
    with isolated_database_url(data_dir, template=_postgres_template(POSTGRES_URL, seeded)) as url:
        yield url


@dataclass
class Deployment:
    data_dir: Path
    database_url: str

    def env(self, **extra: str) -> dict[str, str]:
        return base_env(self.data_dir, TELROUTE_DATABASE_URL=self.database_url, **extra)

    def server(self, *args: str, **env_extra: str) -> Server:
        """A (not yet started) `telroute serve` on this deployment."""
        return Server(self.data_dir, args=args, env_extra={"TELROUTE_DATABASE_URL": self.database_url, **env_extra})

    def in_process_server(self, **env_extra: str) -> InProcessServer:
        """A (not yet started) sandbox server on this deployment serving from a thread of the test process:
        for tests of the API, not of the process."""
        return InProcessServer(self.data_dir, env_extra={"TELROUTE_DATABASE_URL": self.database_url, **env_extra})

    def cli(
        self, *args: str, check: bool = True, env_extra: dict[str, str] | None = None
    ) -> subprocess.CompletedProcess[str]:
        """Run `telroute ARGS` on this deployment; unless `check=False`, a non-zero exit fails the test."""
        result = run_cli(self.data_dir, *args, env=self.env(**(env_extra or {})), check=False)
        if check and result.returncode != 0:
            raise AssertionError(f"telroute {' '.join(args)} exited {result.returncode}:\n{result.stderr}")
        return result

    def cli_json(self, *args: str) -> Any:
        return json.loads(self.cli(*args, "--json").stdout)

    def create_account(self, name: str) -> Keys:
        """An account made by `telroute accounts create` (about a second: the CLI's start-up)."""
        keys = self.cli_json("accounts", "create", "--name", name)
        return str(keys["access_key"]), str(keys["secret_key"])

    def new_account(self, name: str, *, sms_per_second: int | None = None, mms_per_second: int | None = None) -> Keys:
        """An account made through the accounts service in this process (fast), with these limits."""

        async def create() -> Keys:
            database = await dbkit.connect(self.database_url, pool_size=1)
            try:
                async with database.transaction() as connection:
                    keys = await accounts_service.create(connection, name, now=system_clock())
                    await accounts_service.set_limits(connection, keys.access_key, sms_per_second, mms_per_second)
            finally:
                await database.close()
            return keys.access_key, keys.secret_key

        return asyncio.run(create())

    def admin_token(self) -> str:
        return (self.data_dir / "admin-token").read_text().strip()

    def query(self, statement: str, params: dict[str, Any] | None = None) -> list[dict[str, Any]]:
        """Run one SQL statement against the deployment's database (from a synchronous test)."""
        [rows] = self.queries([statement], params)
        return rows

    def queries(self, statements: list[str], params: dict[str, Any] | None = None) -> list[list[dict[str, Any]]]:
        """Run SQL statements in one transaction on one connection; the rows of each."""
        return sql_reader.queries(self.database_url, statements, params)

    def lapse_leases_of(self, server: Server, *, worker_pid: int | None = None) -> Counter[str]:
        """Make the jobs a dead server had claimed due now, as its lease lapsing would after
        `job_lease_seconds` (60 s): what another worker does with them is what is under test.
        Returns how many jobs of each kind the dead server held. `worker_pid`: its worker process's, when
        the worker ran apart."""
        assert server.process is not None and server.process.poll() is not None, "the server is still running"
        holder = f"{socket.gethostname()}:{worker_pid or server.process.pid}"
        rows = self.query(
            "UPDATE jobs SET run_at_us = 0 WHERE locked_by = :holder AND run_at_us > 0 RETURNING kind",
            {"holder": holder},
        )
        return Counter(str(row["kind"]) for row in rows)


@contextmanager
def deployment(data_dir: Path) -> Iterator[Deployment]:
    """A deployment of its own, its database a copy of one migrated and seeded as a sandbox server's first
    start would (on PostgreSQL CREATE DATABASE ... TEMPLATE, on SQLite a file copy): a second or so instead
    of the seconds each fresh deployment's server would spend seeding."""
    with copied_database_url(data_dir, seeded=True) as url:
        yield Deployment(data_dir, url)


@contextmanager
def api_only(data_dir: Path) -> Iterator[tuple[Deployment, Server]]:
    """A deployment with one `telroute serve --no-worker` running: nothing changes its jobs but the test."""
    with deployment(data_dir) as deployed:
        server = deployed.server("--no-worker").start()
        try:
            yield deployed, server
        finally:
            server.terminate()


@cache
def _postgres_template(postgres_url: str, seeded: bool) -> str:
    """A database of this test run at the schema head (with the sandbox inventory when `seeded`), dropped
    when the run ends."""
    name = f"telroute_template_{uuid.uuid4().hex[:16]}"
    admin = with_database(postgres_url, "postgres")
    _psql(admin, f"CREATE DATABASE {name}")
    atexit.register(_psql, admin, f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
    _migrate_and_seed(with_database(postgres_url, name), seeded)
    return name


@cache
def _sqlite_template(seeded: bool) -> Path:
    """A SQLite file of this test run (in a directory removed when the run ends) at the schema head (with the
    sandbox inventory when `seeded`); copy it, never open it."""
    directory = Path(tempfile.mkdtemp(prefix="telroute-template-"))
    atexit.register(shutil.rmtree, directory, ignore_errors=True)
    path = directory / SQLITE_FILE
    _migrate_and_seed(f"sqlite:///{path}", seeded)
    assert not path.with_name(f"{SQLITE_FILE}-wal").exists(), "the template must be complete in one file"
    return path


def seeded_sqlite_template() -> Path:
    return _sqlite_template(seeded=True)


def migrated_sqlite_template() -> Path:
    return _sqlite_template(seeded=False)


def _migrate_and_seed(url: str, seeded: bool) -> None:
    """The schema head and, when `seeded`, the inventory a sandbox server seeds (the same seed and
    `TELROUTE_INVENTORY_PER_BLOCK` as `base_env`)."""
    migrate(url)
    if not seeded:
        return
    per_block = int(base_env(Path("."))["TELROUTE_INVENTORY_PER_BLOCK"])

    async def seed() -> None:
        database = await dbkit.connect(url, pool_size=1)
        try:
            async with database.transaction() as connection:
                await numbers_service.add_inventory(connection, generate_inventory(seed=0, per_block=per_block))
        finally:
            await database.close()

    asyncio.run(seed())
