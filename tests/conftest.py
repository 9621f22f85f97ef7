from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from telroute import bootstrap
from telroute.bootstrap import Deps
from telroute.config import Settings
from tests.support.databases import POSTGRES_URL, SQLITE_FILE, database_url_for, on_postgres, with_database
from tests.support.inprocess import InProcessServer
from tests.support.isolated import migrated_sqlite_template, seeded_sqlite_template
from tests.support.server import Server, create_account


def pytest_configure(config: pytest.Config) -> None:
    """Under pytest-xdist on PostgreSQL: this worker's own database (see tests/support/databases.py)."""
    if POSTGRES_URL is None or os.environ.get("TELROUTE_TEST_DATABASE_URL") == POSTGRES_URL:
        return
    name = urlsplit(POSTGRES_URL).path.lstrip("/")
    admin = with_database(POSTGRES_URL, "postgres")
    subprocess.run(["psql", admin, "-qc", f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"], check=True, timeout=60)
    subprocess.run(["psql", admin, "-qc", f"CREATE DATABASE {name}"], check=True, timeout=60)


@pytest.fixture(scope="session")
def shared_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("telroute-shared")


@pytest.fixture(scope="session")
def server(shared_dir: Path) -> Iterator[Server]:
    """One sandbox server shared by the e2e tests, serving from a thread of this process (tests of the process
    itself start a `Server` of their own); each test makes its own accounts."""
    if not on_postgres():  # on PostgreSQL it seeds the suite's database on its first start
        shutil.copyfile(seeded_sqlite_template(), shared_dir / SQLITE_FILE)
    running = InProcessServer(shared_dir).start()
    yield running
    running.terminate()


@pytest.fixture
def account(server: Server) -> tuple[str, str]:
    return create_account(server.data_dir, "test")


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(data_dir=tmp_path, database_url=database_url_for(tmp_path))


@pytest.fixture
async def deps(settings: Settings) -> AsyncIterator[Deps]:
    if not on_postgres():  # a copy of a file this run migrated once, not Alembic again
        shutil.copyfile(migrated_sqlite_template(), settings.data_dir / SQLITE_FILE)
    await asyncio.to_thread(bootstrap.prepare_database, settings)  # Alembic runs its own loop on PostgreSQL
    built = await bootstrap.build(settings)
    yield built
    await built.close()
