from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from contextlib import ExitStack
from pathlib import Path

import pytest

from telroute import bootstrap
from telroute.bootstrap import Deps
from telroute.config import Settings
from telroute.kit import db as dbkit
from telroute.kit.db import Database, sql
from tests.support.isolated import migrated_database_url


@pytest.fixture
async def isolated_deps(tmp_path: Path) -> AsyncIterator[Deps]:
    """A migrated database of the test's own (a fresh one on PostgreSQL): for tests whose jobs or
    carrier leases no other test's server may touch."""
    with ExitStack() as stack:
        # In a thread: the first copy of a run makes the template, and Alembic runs its own event loop.
        url = await asyncio.to_thread(stack.enter_context, migrated_database_url(tmp_path))
        built = await bootstrap.build(Settings(data_dir=tmp_path, database_url=url))
        yield built
        await built.close()


@pytest.fixture(scope="module")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A migrated database of the module's own, shared by its tests."""
    with migrated_database_url(tmp_path_factory.mktemp("module")) as url:
        yield url


@pytest.fixture
async def database(database_url: str) -> AsyncIterator[Database]:
    """The module's database with empty job tables."""
    connected = await dbkit.connect(database_url)
    async with connected.transaction() as connection:
        await connection.execute(sql("DELETE FROM jobs"))
        await connection.execute(sql("DELETE FROM failed_jobs"))
    yield connected
    await connected.close()
