"""`telroute backup` and `telroute restore`: SQLite deployments; PostgreSQL ones are pointed to its tools."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from telroute import backup as backup_service
from telroute.cli_common import DatabaseUrl, DataDir, console, fail, settings_for


def register(app: typer.Typer) -> None:
    app.command("backup")(backup)
    app.command("restore")(restore)


def backup(
    path: Annotated[Path, typer.Argument(help="The backup file to create (it must not exist).")],
    data_dir: DataDir = None,
    database_url: DatabaseUrl = None,
) -> None:
    """Copy the SQLite database, consistently, while servers run (mode 0600). PostgreSQL: use pg_dump."""
    try:
        copied = backup_service.backup(settings_for(data_dir, database_url), path)
    except backup_service.BackupRefused as exc:
        raise fail(str(exc)) from exc
    console.print(f"backed up to {copied.path} ({copied.size:,} bytes, schema revision {copied.revision})")


def restore(
    path: Annotated[Path, typer.Argument(help="A file made by `telroute backup`.")],
    data_dir: DataDir = None,
    database_url: DatabaseUrl = None,
) -> None:
    """Replace the SQLite database with a backup; stop every server and worker first (refused otherwise)."""
    try:
        restored = backup_service.restore(settings_for(data_dir, database_url), path)
    except backup_service.BackupRefused as exc:
        raise fail(str(exc)) from exc
    console.print(f"restored {path} into {restored.path} (schema revision {restored.revision})")
    if restored.set_aside is not None:
        console.print(f"the database it replaced is kept as {restored.set_aside}")
