"""The WAL checkpoint thread (`kit/sqlite_checkpoints.py`): it copies what was written into the database
file without any writer's help, and leaves an idle WAL alone."""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from telroute.kit.sqlite_checkpoints import Checkpointer

pytestmark = pytest.mark.sqlite_only


@pytest.fixture
def writer(tmp_path: Path) -> Iterator[sqlite3.Connection]:
    connection = sqlite3.connect(tmp_path / "wal.db", isolation_level=None)
    connection.execute("PRAGMA journal_mode=WAL")
    connection.execute("PRAGMA wal_autocheckpoint=0")
    connection.execute("CREATE TABLE items (name TEXT)")
    yield connection
    connection.close()


def write(connection: sqlite3.Connection, rows: int) -> None:
    """One transaction: the WAL changes once."""
    connection.execute("BEGIN")
    connection.executemany("INSERT INTO items (name) VALUES (?)", [("x" * 500,)] * rows)
    connection.execute("COMMIT")


def wait_for(condition: object, timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition() and time.monotonic() < deadline:  # type: ignore[operator]
        time.sleep(0.01)


def test_what_is_written_is_copied_into_the_database_file(writer: sqlite3.Connection, tmp_path: Path) -> None:
    checkpoints = Checkpointer(tmp_path / "wal.db", interval=0.01)
    checkpoints.start()
    try:
        write(writer, 500)
        wait_for(lambda: checkpoints.last is not None and checkpoints.last[2] > 0)
        busy, frames, copied = checkpoints.last or (1, 0, 0)
        assert busy == 0 and frames == copied > 0
    finally:
        checkpoints.stop()
    # The database file alone, without its WAL, holds the rows now.
    copy = tmp_path / "copy.db"
    copy.write_bytes((tmp_path / "wal.db").read_bytes())
    with sqlite3.connect(copy) as alone:
        assert alone.execute("SELECT COUNT(*) FROM items").fetchone()[0] == 500


def test_an_idle_wal_is_not_checkpointed_again(writer: sqlite3.Connection, tmp_path: Path) -> None:
    checkpoints = Checkpointer(tmp_path / "wal.db", interval=0.01)
    checkpoints.start()
    try:
        write(writer, 10)
        wait_for(lambda: checkpoints.checkpoints > 0)
        time.sleep(0.2)
        after_the_write = checkpoints.checkpoints
        time.sleep(0.2)
        assert checkpoints.checkpoints == after_the_write == 1
        write(writer, 10)
        wait_for(lambda: checkpoints.checkpoints > 1)
        assert checkpoints.checkpoints == 2
    finally:
        checkpoints.stop()
