"""sandbox_tools/virtual_clock.py: a process follows an advance another process makes (on PostgreSQL through
its NOTIFY, well before the periodic re-read; on SQLite through the file's data version), and an idle
follower reads nothing."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from telroute import bootstrap
from telroute.bootstrap import Deps
from telroute.config import Settings
from telroute.kit.db import notifies_across_processes
from telroute.sandbox_tools import virtual_clock

HOUR_US = 3_600_000_000


@pytest.fixture
async def other_process(isolated_deps: Deps) -> AsyncIterator[Deps]:
    """A second process's Deps on the same database (a connection of its own)."""
    settings = Settings(data_dir=isolated_deps.settings.data_dir, database_url=isolated_deps.settings.database_url)
    built = await bootstrap.build(settings)
    yield built
    await built.close()


@pytest.fixture
async def following(isolated_deps: Deps) -> AsyncIterator[Deps]:
    stop = asyncio.Event()
    before = isolated_deps.db.counted.statements
    task = asyncio.create_task(virtual_clock.follow(isolated_deps, stop))
    async with asyncio.timeout(30):  # its LISTEN is up (on PostgreSQL) and its first read done
        while isolated_deps.db.counted.statements == before:
            await asyncio.sleep(0.01)
    yield isolated_deps
    stop.set()
    await asyncio.wait_for(task, 2)  # `stop` ends it at once, not after its periodic wait


async def test_an_advance_elsewhere_is_followed_before_the_periodic_read(following: Deps, other_process: Deps) -> None:
    async with other_process.db.transaction() as connection:
        offset = await virtual_clock.advance(connection, 3600)
    assert offset >= HOUR_US
    async with asyncio.timeout(virtual_clock.RECHECK_SECONDS / 2):
        while virtual_clock.virtual(following).offset_us != offset:
            await asyncio.sleep(0.02)


async def test_an_idle_follower_reads_nothing(following: Deps) -> None:
    before = following.db.counted.statements
    await asyncio.sleep(1.0)
    statements = following.db.counted.statements - before
    # PostgreSQL: nothing until an advance is announced. SQLite: only its look at the data version, about
    # every FOLLOW_SECONDS (a read of the offset would count one more each time).
    looks = round(1.0 / virtual_clock.FOLLOW_SECONDS)
    assert statements == 0 if notifies_across_processes(following.db) else statements <= looks + 1
