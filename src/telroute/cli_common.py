"""What every admin command shares: the data-dir and database options, and running one action."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer
from rich.console import Console

from telroute import bootstrap
from telroute.bootstrap import Deps
from telroute.config import Settings, settings_from_env
from telroute.errors import TelrouteError

T = TypeVar("T")
console = Console()
err_console = Console(stderr=True, soft_wrap=True)

DataDir = Annotated[Path | None, typer.Option("--data-dir", help="Data directory (env TELROUTE_DATA_DIR).")]
DatabaseUrl = Annotated[
    str | None, typer.Option("--database-url", help="postgresql://... (env TELROUTE_DATABASE_URL).")
]
AsJson = Annotated[bool, typer.Option("--json", help="Print JSON.")]


def settings_for(data_dir: Path | None, database_url: str | None, **changes: Any) -> Settings:
    return settings_from_env().with_overrides(data_dir=data_dir, database_url=database_url, **changes)


def run_with_deps(settings: Settings, action: Callable[[Deps], Awaitable[T]]) -> T:
    """Open a migrated database, run one admin action, close it; errors become exit code 1."""
    bootstrap.prepare_database(settings)

    async def main() -> T:
        deps = await bootstrap.build(settings)
        try:
            return await action(deps)
        finally:
            await deps.close()

    try:
        return asyncio.run(main())
    except TelrouteError as exc:
        err_console.print(f"[red]error:[/red] {exc.detail}")
        raise typer.Exit(1) from exc


def fail(message: str) -> typer.Exit:
    err_console.print(f"[red]error:[/red] {message}")
    return typer.Exit(1)
