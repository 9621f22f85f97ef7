"""Bring a database to the newest schema with the one Alembic history."""

from __future__ import annotations

import fcntl
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory

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
    with path.with_name(path.name + ".migrate-lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        command.upgrade(_config(url), revision)
