from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from telroute import bootstrap
from telroute.bootstrap import Deps
from telroute.config import Settings
from tests.support.isolated import isolated_database_url


@pytest.fixture
async def isolated_deps(tmp_path: Path) -> AsyncIterator[Deps]:
    """A migrated database of the test's own (a fresh one on PostgreSQL): for tests whose jobs or
    carrier leases no other test's server may touch."""
    with isolated_database_url(tmp_path) as url:
        settings = Settings(data_dir=tmp_path, database_url=url)
        await asyncio.to_thread(bootstrap.prepare_database, settings)  # Alembic's env.py runs its own loop
        built = await bootstrap.build(settings)
        yield built
        await built.close()
