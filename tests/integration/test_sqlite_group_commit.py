"""SQLite group commit: the transactions of one event-loop turn share a COMMIT, and their work is
visible to the process before that COMMIT. A transaction that fails, perhaps because of that work, may
not answer before it is in the file: a crash in between would erase the reason for the refusal.
Watched through a second connection, which sees only what is committed."""

from __future__ import annotations

import asyncio
import sqlite3
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


async def test_a_unit_gives_the_write_lock_back_as_it_ends(
    database: SqliteDatabase, committed: sqlite3.Connection
) -> None:
    """While this process holds SQLite's write lock, no other process can write (`serve`'s worker, a worker
    beside `serve --no-worker`): a unit commits as it ends, before the loop runs the next ready task, and
    its work is in the file by then."""
    committed.execute("PRAGMA busy_timeout = 0")
    seen: list[int] = []

    def other_process_writes() -> None:
        committed.execute("BEGIN IMMEDIATE")  # raises "database is locked" while the lock is held
        committed.execute("INSERT INTO items (name) VALUES ('elsewhere')")
        committed.execute("COMMIT")
        seen.append(committed_count(committed))

    async def next_task() -> None:
        other_process_writes()

    await asyncio.gather(write(database), next_task())
    assert seen == [2]


async def test_the_commit_does_not_checkpoint(database: SqliteDatabase, tmp_path: Path) -> None:
    """SQLite's own checkpoint would run inside the COMMIT that takes the WAL past 1,000 pages, stopping the
    loop and holding the write lock for its disk syncs: the WAL grows past that instead, for the database's
    checkpoint thread (stopped here) to copy."""
    database._checkpoints.stop()
    page = 4096
    for _ in range(30):  # about 100 pages each
        async with database.transaction() as connection:
            await connection.executemany(sql("INSERT INTO items (name) VALUES (:name)"), [{"name": "x" * 2000}] * 200)
    assert (tmp_path / "items.db-wal").stat().st_size > 2000 * page  # SQLite's own: about 1,100 pages at most
