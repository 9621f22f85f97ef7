"""Bring a database to the newest schema with the one Alembic history."""

from __future__ import annotations

import fcntl
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine, pool

from telroute.kit.db import Connection, sql

MIGRATIONS = Path(__file__).resolve().parent.parent / "migrations"
_SCHEMA_REVISIONS = sql("SELECT version_num FROM alembic_version")


def _alembic_url(url: str) -> str:
    if url.startswith(("postgresql://", "postgres://")):
        return "postgresql+asyncpg://" + url.split("://", 1)[1]
    return url


def _config(url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", _alembic_url(url).replace("%", "%%"))
    return config


def head_revision() -> str:
    head = ScriptDirectory.from_config(_config("sqlite://")).get_current_head()
    assert head is not None
    return head


async def schema_revisions(connection: Connection) -> list[str]:
    """The revisions a running database records, sorted: `[head_revision()]` when it is up to date."""
    return sorted(str(row["version_num"]) for row in await connection.fetch(_SCHEMA_REVISIONS))


def migrate(url: str, revision: str = "head") -> None:
    """Upgrade to head (or to `revision`). Safe while servers use the database and when several
    processes start at once: SQLite takes a lock file beside the database, PostgreSQL an advisory lock (env.py)."""
    if not url.startswith("sqlite:///"):
        command.upgrade(_config(url), revision)
        return
    path = Path(url.removeprefix("sqlite:///"))
    path.parent.mkdir(parents=True, exist_ok=True)
    with sqlite_migration_lock(path):
        command.upgrade(_config(url), revision)


@contextmanager
def sqlite_migration_lock(path: Path) -> Iterator[None]:
    """Held while the schema of the SQLite file at `path` changes (a migration, a restore)."""
    with path.with_name(path.name + ".migrate-lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        yield


def known_revisions() -> set[str]:
    """Every revision of this version's migration history."""
    return {script.revision for script in ScriptDirectory.from_config(_config("sqlite://")).walk_revisions()}


def current_revision_sqlite(url: str) -> str | None:
    """The revision a SQLite file records (None: not a migrated database), read without the server's driver."""
    engine = create_engine(url, poolclass=pool.NullPool)
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()
