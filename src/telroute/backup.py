"""Backup and restore of a SQLite deployment's database; PostgreSQL has its own tools.

`backup` copies the live database with SQLite's online backup API (one consistent moment, while servers go
on writing) into a private temporary file beside the target, checks the copy, and renames it into place:
a backup file that exists is complete. `restore` checks the backup the same way, then, while no telroute
process has the database open, sets the current database (and its WAL) aside and renames a checked copy of
the backup into its place.
"""

from __future__ import annotations

import os
import sqlite3
import time
from contextlib import suppress
from dataclasses import dataclass
from pathlib import Path

from telroute.config import Settings
from telroute.kit import db as dbkit
from telroute.kit import sqlite_lock
from telroute.kit.migrate import current_revision_sqlite, head_revision, known_revisions, sqlite_migration_lock

POSTGRES_ADVICE = (
    "telroute backup and restore copy SQLite databases; this deployment uses PostgreSQL. Back it up with "
    "PostgreSQL's own tools: `pg_dump --format=custom` for a logical copy (restore it with `pg_restore`), or "
    "`pg_basebackup` with WAL archiving for a physical copy and point-in-time recovery."
)
_SIDECARS = ("-wal", "-shm", "-journal")


class BackupRefused(Exception):
    """The backup or restore was not done; the message says why and what to do."""


@dataclass(frozen=True, slots=True)
class Copied:
    path: Path
    revision: str  # the schema's migration revision
    size: int  # bytes
    set_aside: Path | None = None  # restore: where the database it replaced now is


def backup(settings: Settings, target: Path) -> Copied:
    database = _sqlite_database(settings)
    if not database.is_file():
        raise BackupRefused(f"there is no database at {database}")
    if target.exists():
        raise BackupRefused(f"{target} exists already; name a new file")
    if not target.parent.is_dir():
        raise BackupRefused(f"there is no directory {target.parent} to write the backup in")
    temporary = _private_file_beside(target)
    try:
        _copy(database, temporary)
        revision = _checked(temporary, what=f"the copy of {database}")
        _rename_durably(temporary, target)
    finally:
        temporary.unlink(missing_ok=True)
    return Copied(target, revision, target.stat().st_size)


def restore(settings: Settings, source: Path) -> Copied:
    """Put the backup at `source` in place of the deployment's database; refused while any telroute process
    has that database open."""
    database = _sqlite_database(settings)
    if not source.is_file():
        raise BackupRefused(f"there is no backup file at {source}")
    database.parent.mkdir(parents=True, exist_ok=True)
    temporary = _private_file_beside(database)
    try:
        _copy(source, temporary)
        revision = _checked(temporary, what=str(source))
        try:
            with sqlite_lock.exclusive(database), sqlite_migration_lock(database):
                set_aside = _set_aside(database)
                _rename_durably(temporary, database)
        except sqlite_lock.DatabaseInUse as exc:
            raise BackupRefused(f"{exc}: stop every telroute server and worker using it, then restore") from exc
    finally:
        temporary.unlink(missing_ok=True)
    return Copied(database, revision, database.stat().st_size, set_aside)


def _sqlite_database(settings: Settings) -> Path:
    if not dbkit.is_sqlite_url(settings.resolved_database_url):
        raise BackupRefused(POSTGRES_ADVICE)
    return dbkit.sqlite_path(settings.resolved_database_url)


def _private_file_beside(path: Path) -> Path:
    """A new empty file of mode 0600 in `path`'s directory (so that a rename into `path` is atomic)."""
    temporary = path.with_name(f".{path.name}.{os.getpid()}.{time.monotonic_ns()}.partial")
    os.close(os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    return temporary


def _copy(source: Path, target: Path) -> None:
    try:
        dbkit.sqlite_online_copy(source, target)
    except sqlite3.DatabaseError as exc:
        raise BackupRefused(f"{source} is not a readable SQLite database ({exc})") from exc


def _checked(copy: Path, *, what: str) -> str:
    """The copy's migration revision, once it has passed SQLite's integrity check and its revision is one
    this version of telroute knows."""
    problems = dbkit.sqlite_integrity(copy)
    if problems != "ok":
        raise BackupRefused(f"{what} fails SQLite's integrity check: {problems[:500]}")
    revision = current_revision_sqlite(f"sqlite:///{copy}")
    if revision is None:
        raise BackupRefused(f"{what} is not a telroute database (it has no migration revision)")
    if revision not in known_revisions():
        raise BackupRefused(
            f"{what} is at schema revision {revision}, unknown to this telroute (head {head_revision()}): "
            "it comes from a newer version"
        )
    return revision


def _set_aside(database: Path) -> Path | None:
    """Keep the current database (with its WAL, which may hold its latest commits) under a dated name, and
    clear the sidecar files a restored database must not inherit: a stale WAL would be replayed into it."""
    if not database.exists():
        _remove_sidecars(database)
        return None
    aside = database.with_name(f"{database.name}.before-restore-{time.strftime('%Y%m%dT%H%M%S')}")
    while aside.exists():
        aside = aside.with_name(aside.name + "+")
    os.link(database, aside)  # the database stays in place until the rename replaces it
    wal = database.with_name(database.name + "-wal")
    if wal.exists():
        os.replace(wal, aside.with_name(aside.name + "-wal"))
    _remove_sidecars(database)
    return aside


def _remove_sidecars(database: Path) -> None:
    for suffix in _SIDECARS:
        with suppress(FileNotFoundError):
            database.with_name(database.name + suffix).unlink()


def _rename_durably(temporary: Path, target: Path) -> None:
    with open(temporary, "rb") as written:
        os.fsync(written.fileno())
    os.replace(temporary, target)
    directory = os.open(target.parent, os.O_RDONLY)
    try:
        os.fsync(directory)
    finally:
        os.close(directory)
