"""Checkpoints of a SQLite WAL file, run by a thread of their own.

SQLite's own automatic checkpoint runs inside the COMMIT that takes the WAL past 1,000 pages: the process's
event loop stops while the checkpoint copies those pages into the database file and syncs both files
(3 to 80 ms, measured under load), and SQLite's write lock stays held, so the other process's writes
wait too. `SqliteDatabase` turns that off for its connection, and this thread, with a connection of its
own, looks at the WAL file every `interval` seconds and runs a PASSIVE checkpoint when it changed since the
last look: writers go on meanwhile (a PASSIVE checkpoint takes no write lock), and the GIL is released while
SQLite works. The WAL starts again from its beginning at the first write after a checkpoint that copied
every frame, as with SQLite's own; an idle database is not checkpointed again.
"""

from __future__ import annotations

import contextlib
import sqlite3
import threading
from pathlib import Path


class Checkpointer:
    def __init__(self, path: Path, *, interval: float = 0.25) -> None:
        self._path = path
        self._wal = path.with_name(path.name + "-wal")
        self._interval = interval
        self._seen = (0, 0)  # the WAL's (modification time, size) at the last look
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="telroute-sqlite-checkpoint", daemon=True)
        self.checkpoints = 0  # PASSIVE checkpoints run (for tests and curiosity)
        self.last: tuple[int, int, int] | None = None  # (busy, frames in the WAL, frames copied) of the last

    def start(self) -> None:
        self._seen = self._wal_written()  # here, not in the thread: a write right after `start` is a change
        self._thread.start()

    def stop(self) -> None:
        """Stops the thread, after the checkpoint under way if one is."""
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join()

    def _run(self) -> None:
        connection = sqlite3.connect(self._path, isolation_level=None, timeout=0)
        try:
            while not self._stop.wait(self._interval):
                written = self._wal_written()
                if written != self._seen:
                    self._seen = written
                    self._checkpoint(connection)
        finally:
            connection.close()

    def _wal_written(self) -> tuple[int, int]:
        """The WAL's modification time and size: they move with every frame written."""
        try:
            status = self._wal.stat()
        except OSError:  # no WAL (yet, or any more)
            return (0, 0)
        return (status.st_mtime_ns, status.st_size)

    def _checkpoint(self, connection: sqlite3.Connection) -> None:
        """A restore replacing the file, a disk error: the next try comes at the next interval."""
        with contextlib.suppress(sqlite3.Error):
            busy, frames, copied = connection.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
            self.last = (int(busy), int(frames), int(copied))
            self.checkpoints += 1
