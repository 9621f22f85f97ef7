"""Checkpoints of a SQLite WAL file, run by a thread of their own.

SQLite's own automatic checkpoint runs inside the COMMIT that takes the WAL past 1,000 pages: the process's
event loop stops while the checkpoint copies those pages into the database file and syncs both files
(3 to 80 ms, measured under load), and SQLite's write lock stays held, so the other process's writes
wait too. `SqliteDatabase` turns that off for its connection, and this thread, with a connection of its
own, looks at the WAL file every `interval` seconds and, when it changed since the last look, runs a
PASSIVE checkpoint: writers go on meanwhile (it takes no write lock), and the GIL is released while SQLite
works.

A PASSIVE checkpoint never starts the WAL again from its beginning while writes go on: a writer does that
only when it finds every frame copied, and under steady writes new frames always arrive while a checkpoint
copies (a 10-minute soak grew the WAL to 15 GB in 6 minutes). So once the WAL file reaches `truncate_at`
bytes the checkpoint is a TRUNCATE one: it waits for the write lock (the other writers retry meanwhile, as
they do for each other), copies what the PASSIVE ones left, and empties the file.

A checkpoint that could not copy every frame (a reader still needed them, the lock was busy, an error) is
tried again at the next look, and every checkpoint after a change is followed by one more: the WAL file
holds a COMMIT's frames a moment before the WAL's index shows them to a checkpoint, and a look taken in
that moment sees the file's last change. Once a checkpoint copied everything and nothing changed since, an
idle database is not checkpointed again.
"""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path

_TRUNCATE_AT = 64 * 1024 * 1024  # bytes: about 16,000 pages of 4 KiB, a few seconds of writes under load
_LOCK_WAIT = 5.0  # seconds a TRUNCATE checkpoint waits for the write lock and for readers before trying later


class Checkpointer:
    def __init__(self, path: Path, *, interval: float = 0.25, truncate_at: int = _TRUNCATE_AT) -> None:
        self._path = path
        self._wal = path.with_name(path.name + "-wal")
        self._interval = interval
        self._truncate_at = truncate_at
        self._seen = (0, 0)  # the WAL's (modification time, size) at the last look
        self._again = False  # a checkpoint is due at the next look although the WAL did not change
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="telroute-sqlite-checkpoint", daemon=True)
        self.checkpoints = 0  # checkpoints run (for tests and curiosity)
        self.truncations = 0  # of them, TRUNCATE ones that emptied the WAL
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
        connection = sqlite3.connect(self._path, isolation_level=None, timeout=_LOCK_WAIT)
        try:
            while not self._stop.wait(self._interval):
                written = self._wal_written()
                changed = written != self._seen
                if changed or self._again:
                    self._seen = written
                    complete = self._checkpoint(connection, truncate=written[1] >= self._truncate_at)
                    self._again = changed or not complete
        finally:
            connection.close()

    def _wal_written(self) -> tuple[int, int]:
        """The WAL's modification time and size: they move with every frame written."""
        try:
            status = self._wal.stat()
        except OSError:  # no WAL (yet, or any more)
            return (0, 0)
        return (status.st_mtime_ns, status.st_size)

    def _checkpoint(self, connection: sqlite3.Connection, *, truncate: bool) -> bool:
        """Whether every frame was copied. A restore replacing the file, a disk error, a lock not had in
        time, a reader that still needs frames: the next try comes at the next interval."""
        try:
            mode = "TRUNCATE" if truncate else "PASSIVE"
            busy, frames, copied = connection.execute(f"PRAGMA wal_checkpoint({mode})").fetchone()
        except sqlite3.Error:
            return False
        self.last = (int(busy), int(frames), int(copied))
        self.checkpoints += 1
        if truncate and not busy:
            self.truncations += 1
        return not busy and copied == frames
