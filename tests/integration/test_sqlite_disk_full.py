"""SQLite on a full disk (a real tmpfs filled to ENOSPC): SQLITE_FULL means "unavailable" (a 503, not a
500), and group commit never lets a unit return normally unless its work is in the file. Watched through a
second connection, which sees only what is committed."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator, Iterator, Sequence
from pathlib import Path

import pytest

from telroute.kit.db import SqliteDatabase, is_unavailable, sql
from tests.support.small_disk import fill, small_disk

pytestmark = pytest.mark.sqlite_only
_CREATE = sql("CREATE TABLE items (name TEXT, payload BLOB)")
_INSERT = sql("INSERT INTO items (name, payload) VALUES (:name, zeroblob(:size))")
_SPILL_EVERY_PAGE = sql("PRAGMA cache_size = 5")  # so that a big row spills to the WAL mid-statement


@pytest.fixture
def disk(tmp_path: Path) -> Iterator[Path]:
    with small_disk(tmp_path / "disk", size_mb=2) as mounted:
        yield mounted


@pytest.fixture
async def database(disk: Path) -> AsyncIterator[SqliteDatabase]:
    database = SqliteDatabase("sqlite:///items.db", disk / "items.db")
    await database.execute(_CREATE)
    yield database
    await database.close()


@pytest.fixture
def committed(disk: Path) -> Iterator[sqlite3.Connection]:
    observer = sqlite3.connect(disk / "items.db")
    yield observer
    observer.close()


def names_in_file(observer: sqlite3.Connection) -> set[str]:
    return {row[0] for row in observer.execute("SELECT name FROM items")}


async def write(database: SqliteDatabase, name: str, *, size: int = 100, spill: bool = False) -> None:
    async with database.transaction() as connection:
        if spill:
            await connection.execute(_SPILL_EVERY_PAGE)
        await connection.execute(_INSERT, {"name": name, "size": size})


def split(names: list[str], outcomes: Sequence[BaseException | None]) -> tuple[set[str], list[BaseException]]:
    """The names whose write returned normally, and the errors of the others."""
    succeeded = {name for name, outcome in zip(names, outcomes, strict=True) if outcome is None}
    errors = [outcome for outcome in outcomes if outcome is not None]
    return succeeded, errors


async def test_a_commit_that_finds_the_disk_full_fails_every_unit_of_its_group(
    database: SqliteDatabase, committed: sqlite3.Connection, disk: Path
) -> None:
    await write(database, "before")
    filler = fill(disk)
    names = [f"unit {index}" for index in range(5)]
    outcomes = await asyncio.gather(*(write(database, name, size=200_000) for name in names), return_exceptions=True)
    succeeded, errors = split(names, outcomes)
    assert succeeded == set() and len(errors) == 5
    assert all(isinstance(error, sqlite3.OperationalError) and is_unavailable(error) for error in errors), errors
    assert names_in_file(committed) == {"before"}

    filler.unlink()
    await write(database, "after", size=200_000)
    assert names_in_file(committed) == {"before", "after"}
    assert committed.execute("PRAGMA integrity_check").fetchone() == ("ok",)


async def test_a_statement_that_finds_the_disk_full_fails_the_units_before_it_in_its_group(
    database: SqliteDatabase, committed: sqlite3.Connection, disk: Path
) -> None:
    """SQLite rolls the whole transaction back on SQLITE_FULL mid-statement: the units of the group that had
    already finished must fail too, and none that follows may run outside a transaction."""
    filler = fill(disk)
    names = ["first", "spilling", "third"]
    outcomes = await asyncio.gather(
        write(database, "first"),
        write(database, "spilling", size=400_000, spill=True),
        write(database, "third"),
        return_exceptions=True,
    )
    succeeded, errors = split(names, outcomes)
    assert "spilling" not in succeeded and "first" not in succeeded, outcomes
    assert all(is_unavailable(error) for error in errors), errors
    assert names_in_file(committed) == succeeded  # returned normally exactly when committed

    filler.unlink()
    await write(database, "after")
    assert names_in_file(committed) == succeeded | {"after"}
