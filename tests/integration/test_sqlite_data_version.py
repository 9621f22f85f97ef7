"""SQLite's data version (`SqliteDatabase.data_version`, followed by the per-process caches): read once per
event-loop turn, and another connection's commit is seen at the next turn."""

from __future__ import annotations

import asyncio

import pytest

from telroute.kit import db as dbkit
from telroute.kit import jobs
from telroute.kit.db import Database, SqliteDatabase

pytestmark = pytest.mark.sqlite_only


async def test_read_once_per_turn_and_another_connections_commit_seen_at_the_next(database: Database) -> None:
    assert isinstance(database, SqliteDatabase)
    elsewhere = await dbkit.connect(database.url)
    try:
        await asyncio.sleep(0)
        statements = database.counted.statements
        before = database.data_version()
        assert database.data_version() == before
        assert database.counted.statements - statements == 1
        async with elsewhere.transaction() as connection:
            await jobs.enqueue(connection, "noop", {}, now=0)
        await asyncio.sleep(0)  # the commit's own awaits passed turns too
        assert database.data_version() != before
        assert database.counted.statements - statements == 2
    finally:
        await elsewhere.close()


async def test_its_own_commits_leave_it(database: Database) -> None:
    assert isinstance(database, SqliteDatabase)
    before = database.data_version()
    async with database.transaction() as connection:
        await jobs.enqueue(connection, "noop", {}, now=0)
    await asyncio.sleep(0)
    assert database.data_version() == before
