"""SQLite across processes: the data version (`SqliteDatabase.data_version`, followed by the per-process
caches) read once per event-loop turn, another connection's commit seen at the next turn; and a write that
waits for another process's write lock without stopping the event loop."""

from __future__ import annotations

import asyncio
import sqlite3

import pytest

from telroute.kit import db as dbkit
from telroute.kit import jobs
from telroute.kit.db import Database, SqliteDatabase, sql

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


async def test_a_write_waits_for_another_processs_write_lock_without_stopping_the_event_loop(
    database: Database,
) -> None:
    assert isinstance(database, SqliteDatabase)
    other = sqlite3.connect(database.url.removeprefix("sqlite:///"), isolation_level=None)
    try:
        other.execute("BEGIN IMMEDIATE")  # another process's writer, holding the write lock
        turns = 0

        async def count_turns() -> None:
            nonlocal turns
            while True:
                await asyncio.sleep(0.005)
                turns += 1

        counter = asyncio.create_task(count_turns())
        write = asyncio.create_task(_enqueue(database))
        await asyncio.sleep(0.3)
        assert not write.done()
        assert turns >= 20  # the loop went on, and so do reads
        assert await database.fetchval(sql("SELECT COUNT(*) FROM jobs WHERE kind = 'waited'")) == 0
        other.execute("COMMIT")
        await asyncio.wait_for(write, 2)
        assert await database.fetchval(sql("SELECT COUNT(*) FROM jobs WHERE kind = 'waited'")) == 1
        counter.cancel()
    finally:
        other.close()


async def test_a_write_gives_up_after_the_lock_timeout(database: Database, monkeypatch: pytest.MonkeyPatch) -> None:
    assert isinstance(database, SqliteDatabase)
    monkeypatch.setattr(SqliteDatabase, "_LOCK_TIMEOUT", 0.2)
    other = sqlite3.connect(database.url.removeprefix("sqlite:///"), isolation_level=None)
    try:
        other.execute("BEGIN IMMEDIATE")
        with pytest.raises(sqlite3.OperationalError, match="database is locked"):
            await _enqueue(database)
        other.execute("ROLLBACK")
        await _enqueue(database)  # the connection is usable again
    finally:
        other.close()


async def _enqueue(database: Database) -> None:
    async with database.transaction() as connection:
        await jobs.enqueue(connection, "waited", {}, now=0)
