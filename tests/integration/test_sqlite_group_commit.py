"""SQLite group commit: the transactions of one event-loop turn share a COMMIT, and their work is
visible to the process before that COMMIT. A transaction that fails, perhaps because of that work, may
not answer before it is in the file: a crash in between would erase the reason for the refusal.
Watched through a second connection, which sees only what is committed."""

from __future__ import annotations

import asyncio
import sqlite3
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from telroute.kit.db import SqliteDatabase, sql

pytestmark = pytest.mark.sqlite_only
_INSERT = sql("INSERT INTO items (name) VALUES ('bought')")
_ITEMS = sql("SELECT name FROM items")


@pytest.fixture
async def database(tmp_path: Path) -> AsyncIterator[SqliteDatabase]:
    database = SqliteDatabase("sqlite:///items.db", tmp_path / "items.db")
    async with database.transaction() as connection:
        await connection.execute(sql("CREATE TABLE items (name TEXT)"))
    yield database
    await database.close()


@pytest.fixture
def committed(tmp_path: Path) -> Iterator[sqlite3.Connection]:
    observer = sqlite3.connect(tmp_path / "items.db")
    yield observer
    observer.close()


def committed_count(observer: sqlite3.Connection) -> int:
    count: int = observer.execute("SELECT COUNT(*) FROM items").fetchone()[0]
    return count


async def write(database: SqliteDatabase) -> None:
    async with database.transaction() as connection:
        await connection.execute(_INSERT)


async def test_a_failed_transaction_raises_only_once_what_it_saw_is_committed(
    database: SqliteDatabase, committed: sqlite3.Connection
) -> None:
    """A purchase refused because another one took the number must not be refused by work that a
    crash could still erase."""

    async def refuse() -> int:
        with pytest.raises(LookupError):
            async with database.transaction() as connection:
                if await connection.fetch(_ITEMS):
                    raise LookupError("already bought")
        return committed_count(committed)

    _, in_file = await asyncio.gather(write(database), refuse())
    assert in_file == 1


async def test_the_commit_runs_beside_the_event_loop(database: SqliteDatabase, committed: sqlite3.Connection) -> None:
    """A group's COMMIT (SQLite appending to the WAL) runs in a thread of its own: the loop serves everything
    else meanwhile, and a transaction returns only once the COMMIT holding its work is done."""

    def slow_disk(statement: str) -> None:  # SQLite calls it in the thread that runs the statement
        if statement == "COMMIT":
            time.sleep(0.3)

    database._raw.set_trace_callback(slow_disk)
    ticks = 0

    async def tick() -> None:
        nonlocal ticks
        while True:
            ticks += 1
            await asyncio.sleep(0.01)

    ticker = asyncio.create_task(tick())
    try:
        await write(database)
        assert committed_count(committed) == 1
    finally:
        ticker.cancel()
    assert ticks >= 10  # with the COMMIT on the loop's thread: one or two
    async with database.snapshot() as connection:
        assert await connection.fetch(_ITEMS) == [{"name": "bought"}]


async def test_the_data_version_does_not_wait_for_the_commit(database: SqliteDatabase) -> None:
    """While the committer's thread has the connection, the caches' version check answers with the version read
    last (another process's commit is seen a moment later) instead of waiting for the COMMIT."""
    version = database.data_version()
    commit_ended: list[float] = []

    def slow_disk(statement: str) -> None:
        if statement == "COMMIT":
            time.sleep(0.3)
            commit_ended.append(time.monotonic())

    database._raw.set_trace_callback(slow_disk)
    writing = asyncio.create_task(write(database))
    await asyncio.sleep(0.1)  # the COMMIT is under way in its thread (and a new turn: the version is read again)
    assert database.data_version() == version
    answered = time.monotonic()
    await writing
    assert answered < commit_ended[0]
