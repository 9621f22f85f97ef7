"""Bring a database to the newest schema with the one Alembic history.

Alembic (with SQLAlchemy, half a second of start-up) is imported only when a database is behind: every
process start checks the revision the database records against the head of `migrations/versions` first,
read from the files themselves (`tests/unit/test_migration_history.py` holds that reading equal to
Alembic's)."""

from __future__ import annotations

import ast
import asyncio
import fcntl
import sqlite3
from collections.abc import Iterator
from contextlib import closing, contextmanager
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

from telroute.kit.db import Connection, sql

if TYPE_CHECKING:
    from alembic.config import Config

MIGRATIONS = Path(__file__).resolve().parent.parent / "migrations"
_VERSION_NUMBERS = "SELECT version_num FROM alembic_version"  # read by a running server and before any driver
_SCHEMA_REVISIONS = sql(_VERSION_NUMBERS)


def _alembic_url(url: str) -> str:
    if url.startswith(("postgresql://", "postgres://")):
        return "postgresql+asyncpg://" + url.split("://", 1)[1]
    return url


def _config(url: str) -> Config:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", _alembic_url(url).replace("%", "%%"))
    return config


def _assigned(tree: ast.Module, name: str) -> str | None:
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(isinstance(t, ast.Name) and t.id == name for t in node.targets):
            value = ast.literal_eval(node.value)
            return None if value is None else str(value)
    return None


@cache
def _history() -> dict[str, str | None]:
    """Each revision of `migrations/versions` with the revision it revises (None for the first)."""
    history: dict[str, str | None] = {}
    for script in sorted((MIGRATIONS / "versions").glob("*.py")):
        tree = ast.parse(script.read_text())
        revision = _assigned(tree, "revision")
        if revision is not None:
            history[revision] = _assigned(tree, "down_revision")
    return history


def head_revision() -> str:
    """The one revision no other revises."""
    history = _history()
    heads = set(history) - {parent for parent in history.values() if parent is not None}
    assert len(heads) == 1, f"the migration history must have one head, not {sorted(heads)}"
    return heads.pop()


def known_revisions() -> set[str]:
    """Every revision of this version's migration history."""
    return set(_history())


async def schema_revisions(connection: Connection) -> list[str]:
    """The revisions a running database records, sorted: `[head_revision()]` when it is up to date."""
    return sorted(str(row["version_num"]) for row in await connection.fetch(_SCHEMA_REVISIONS))


def migrate(url: str, revision: str = "head") -> None:
    """Upgrade to head (or to `revision`). Safe while servers use the database and when several
    processes start at once: SQLite takes a lock file beside the database, PostgreSQL an advisory lock (env.py)."""
    if revision == "head" and recorded_revisions(url) == [head_revision()]:
        return
    from alembic import command

    if not url.startswith("sqlite:///"):
        command.upgrade(_config(url), revision)
        return
    path = Path(url.removeprefix("sqlite:///"))
    path.parent.mkdir(parents=True, exist_ok=True)
    with sqlite_migration_lock(path):
        command.upgrade(_config(url), revision)


def recorded_revisions(url: str) -> list[str]:
    """The revisions the database at `url` records, sorted; [] when it has none or does not exist yet."""
    if url.startswith("sqlite:///"):
        path = Path(url.removeprefix("sqlite:///"))
        return _sqlite_revisions(path) if path.exists() else []
    return asyncio.run(_postgres_revisions(url))


def _sqlite_revisions(path: Path) -> list[str]:
    with closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True)) as connection:
        try:
            return sorted(str(row[0]) for row in connection.execute(_VERSION_NUMBERS))
        except sqlite3.OperationalError:  # no alembic_version table: not migrated yet
            return []


async def _postgres_revisions(url: str) -> list[str]:
    import asyncpg

    connection = await asyncpg.connect(url)
    try:
        return sorted(str(row[0]) for row in await connection.fetch(_VERSION_NUMBERS))
    except asyncpg.UndefinedTableError:
        return []
    finally:
        await connection.close()


def current_revision_sqlite(url: str) -> str | None:
    """The revision a SQLite file records (None: not a migrated database), read without the server's driver."""
    recorded = _sqlite_revisions(Path(url.removeprefix("sqlite:///")))
    return recorded[0] if len(recorded) == 1 else None


@contextmanager
def sqlite_migration_lock(path: Path) -> Iterator[None]:
    """Held while the schema of the SQLite file at `path` changes (a migration, a restore)."""
    with path.with_name(path.name + ".migrate-lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        yield
