"""The WAL checkpoint thread (`kit/sqlite_checkpoints.py`): it copies what was written into the database
file without any writer's help, and leaves an idle WAL alone."""

from __future__ import annotations

import contextlib
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


@pytest.fixture
def checkpoints(tmp_path: Path) -> Iterator[Checkpointer]:
    """A checkpoint thread of `writer`'s database looking every 10 ms, started."""
    started = Checkpointer(tmp_path / "wal.db", interval=0.01)
    started.start()
    yield started
    started.stop()


def write(connection: sqlite3.Connection, rows: int) -> None:
    """One transaction: the WAL changes once."""
    connection.execute("BEGIN")
    connection.executemany("INSERT INTO items (name) VALUES (?)", [("x" * 500,)] * rows)
    connection.execute("COMMIT")


def wait_for(condition: object, timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition() and time.monotonic() < deadline:  # type: ignore[operator]
        time.sleep(0.01)


def rows_in_the_file_alone(tmp_path: Path) -> int:
    """The rows a copy of the database file holds without its WAL."""
    copy = tmp_path / "copy.db"
    copy.write_bytes((tmp_path / "wal.db").read_bytes())
    try:
        with contextlib.closing(sqlite3.connect(copy)) as alone:
            count: int = alone.execute("SELECT COUNT(*) FROM items").fetchone()[0]
    except sqlite3.OperationalError:  # not even the table is in the file yet
        count = 0
    copy.unlink()
    return count


def test_what_is_written_is_copied_into_the_database_file(
    writer: sqlite3.Connection, checkpoints: Checkpointer, tmp_path: Path
) -> None:
    write(writer, 500)
    # A look taken while the COMMIT was being written copies the part before it; the next one the rest.
    wait_for(lambda: rows_in_the_file_alone(tmp_path) == 500)
    assert rows_in_the_file_alone(tmp_path) == 500
    wait_for(lambda: checkpoints.last is not None and checkpoints.last[0] == 0)  # its result, back in Python
    busy, frames, copied = checkpoints.last or (1, 0, 0)
    assert busy == 0 and frames == copied > 0


def test_frames_a_reader_still_needed_are_copied_once_it_is_done(writer: sqlite3.Connection, tmp_path: Path) -> None:
    """A checkpoint that could not copy everything is tried again though the WAL does not change."""
    checkpoints = Checkpointer(tmp_path / "wal.db", interval=0.01)
    reader = sqlite3.connect(tmp_path / "wal.db", isolation_level=None)
    reader.execute("BEGIN")
    reader.execute("SELECT COUNT(*) FROM items").fetchone()  # its snapshot: before the rows
    checkpoints.start()
    try:
        write(writer, 500)
        wait_for(lambda: checkpoints.checkpoints >= 2)  # the change's and the one after it, both cut short
        assert rows_in_the_file_alone(tmp_path) == 0
        reader.execute("COMMIT")  # nothing is written: the WAL file does not change
        wait_for(lambda: rows_in_the_file_alone(tmp_path) == 500)
        assert rows_in_the_file_alone(tmp_path) == 500
    finally:
        checkpoints.stop()
        reader.close()


def settled(checkpoints: Checkpointer) -> int:
    """The count once it stopped moving: a look taken while a COMMIT was being written sees the rest next."""
    count, deadline = -1, time.monotonic() + 2.0
    while count != checkpoints.checkpoints and time.monotonic() < deadline:
        count = checkpoints.checkpoints
        time.sleep(0.1)
    return count


def test_an_idle_wal_is_not_checkpointed_again(writer: sqlite3.Connection, checkpoints: Checkpointer) -> None:
    write(writer, 10)
    wait_for(lambda: checkpoints.checkpoints > 0)
    after_the_write = settled(checkpoints)
    time.sleep(0.3)  # thirty looks at an idle WAL
    assert checkpoints.checkpoints == after_the_write
    write(writer, 10)
    wait_for(lambda: checkpoints.checkpoints > after_the_write)
    assert checkpoints.checkpoints > after_the_write


def test_the_wal_is_emptied_once_it_reaches_its_limit_while_writes_go_on(
    writer: sqlite3.Connection, tmp_path: Path
) -> None:
    """Under steady writes a PASSIVE checkpoint never lets the WAL start again from its beginning: past
    `truncate_at` the checkpoint waits for the write lock and empties the file."""
    checkpoints = Checkpointer(tmp_path / "wal.db", interval=0.01, truncate_at=256 * 1024)
    checkpoints.start()
    largest = 0
    try:
        deadline = time.monotonic() + 1.5
        while time.monotonic() < deadline:
            write(writer, 20)  # about 10 KB a transaction
            largest = max(largest, (tmp_path / "wal.db-wal").stat().st_size)
            time.sleep(0.0005)  # a writer does other work between its transactions
    finally:
        checkpoints.stop()
    assert checkpoints.truncations > 0
    assert largest < 4 * 1024 * 1024  # without the TRUNCATE: every transaction's frames, over 10 MB
    assert rows_in_the_file_alone(tmp_path) > 0
