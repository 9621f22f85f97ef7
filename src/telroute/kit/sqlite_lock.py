"""Who is using a SQLite database file. Every telroute process that opens one holds a shared lock on a file
beside it (`telroute.db.in-use`) for as long as it is open; `telroute restore` takes that lock exclusively,
so it refuses while a server, worker or command has the database open, and nothing opens the database
while a restore replaces it. The kernel releases flock locks when their process dies, even by SIGKILL, so
a crashed server never blocks a restore."""

from __future__ import annotations

import fcntl
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


class DatabaseInUse(Exception):
    """Another process has the database open."""


def in_use_path(database: Path) -> Path:
    return database.with_name(database.name + ".in-use")


def hold_shared(database: Path) -> int:
    """Take the shared lock (waiting while a restore holds it); the descriptor to pass to `release`."""
    descriptor = os.open(in_use_path(database), os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(descriptor, fcntl.LOCK_SH)
    except BaseException:
        os.close(descriptor)
        raise
    return descriptor


def release(descriptor: int) -> None:
    os.close(descriptor)  # closing the descriptor drops its lock


@contextmanager
def exclusive(database: Path) -> Iterator[None]:
    """Hold the database for this process alone; DatabaseInUse at once if any other process has it open."""
    descriptor = os.open(in_use_path(database), os.O_RDWR | os.O_CREAT, 0o600)
    try:
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError as exc:
            raise DatabaseInUse(f"{database} is open in another telroute process") from exc
        yield
    finally:
        os.close(descriptor)
