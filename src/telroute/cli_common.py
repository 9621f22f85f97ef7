"""What every admin command shares: the data-dir and database options, and running one action."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer
from rich.console import Console

from telroute import bootstrap
from telroute.bootstrap import Deps
from telroute.config import Profile, Settings, settings_from_env
from telroute.deployment.model import DeploymentRefused
from telroute.errors import TelrouteError
from telroute.kit.logging import configure as configure_logging

T = TypeVar("T")
console = Console(soft_wrap=True)  # long paths and messages stay on one line for whoever reads them
err_console = Console(stderr=True, soft_wrap=True)

DataDir = Annotated[Path | None, typer.Option("--data-dir", help="Data directory (env TELROUTE_DATA_DIR).")]
DatabaseUrl = Annotated[
    str | None, typer.Option("--database-url", help="postgresql://... (env TELROUTE_DATABASE_URL).")
]
AsJson = Annotated[bool, typer.Option("--json", help="Print JSON.")]
ProfileOption = Annotated[
    Profile | None,
    typer.Option(
        "--profile",
        help="sandbox or production (env TELROUTE_PROFILE). Stored for the deployment when it has none yet; "
        "otherwise it may only make this process stricter than the stored profile.",
    ),
]


def settings_for(data_dir: Path | None, database_url: str | None, **changes: Any) -> Settings:
    try:
        from_env = settings_from_env()
    except ValueError as exc:
        err_console.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(2) from exc
    return from_env.with_overrides(data_dir=data_dir, database_url=database_url, **changes)


@contextmanager
def refused_exits_2() -> Iterator[None]:
    """A process asked to be looser than its deployment (or to choose a profile it may not) says why
    in one line and exits with code 2."""
    try:
        yield
    except DeploymentRefused as exc:
        err_console.print(f"[red]error:[/red] {exc}", highlight=False)
        raise typer.Exit(2) from exc


def run_with_deps(settings: Settings, action: Callable[[Deps], Awaitable[T]]) -> T:
    """Open a migrated database, run one admin action, close it; errors become exit code 1."""
    bootstrap.prepare_database(settings)

    async def main() -> T:
        configure_logging(settings.log_format, settings.log_level)
        deps = await bootstrap.build(settings)
        bootstrap.log_policy(deps.settings, "cli")
        try:
            return await action(deps)
        finally:
            await deps.close()

    try:
        with refused_exits_2():
            return asyncio.run(main())
    except TelrouteError as exc:
        err_console.print(f"[red]error:[/red] {exc.detail}")
        raise typer.Exit(1) from exc


def fail(message: str) -> typer.Exit:
    err_console.print(f"[red]error:[/red] {message}")
    return typer.Exit(1)
