"""`telroute serve` and `telroute worker`, which run telroute's processes, and `telroute migrate`."""

from __future__ import annotations

from typing import Annotated

import typer
import uvloop

from telroute import bootstrap
from telroute.bootstrap import Deps
from telroute.cli_common import (
    DatabaseUrl,
    DataDir,
    ProfileOption,
    console,
    refused_exits_2,
    run_with_deps,
    settings_for,
)


def register(app: typer.Typer) -> None:
    app.command("migrate")(migrate)
    app.command("serve")(serve)
    app.command("worker")(worker)


def migrate(data_dir: DataDir = None, database_url: DatabaseUrl = None) -> None:
    """Bring the database schema up to date."""

    async def nothing_more(deps: Deps) -> None:  # migrating is run_with_deps's first step
        return None

    run_with_deps(settings_for(data_dir, database_url), nothing_more)
    console.print("database is up to date")


def serve(
    host: Annotated[str, typer.Option(help="Address to bind.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8080,
    data_dir: DataDir = None,
    database_url: DatabaseUrl = None,
    profile: ProfileOption = None,
    allow_private_targets: Annotated[
        bool | None,
        typer.Option(
            "--allow-private-targets/--deny-private-targets",
            help="Let callbacks and media reach private addresses (only where the deployment allows it).",
        ),
    ] = None,
    no_worker: Annotated[bool, typer.Option("--no-worker", help="Serve the API only; run workers apart.")] = False,
    worker_process: Annotated[
        bool | None,
        typer.Option(
            "--worker-process/--worker-in-process",
            help="Run the worker in a child process (two cores) or in this one [default: a child process where "
            "this machine has two cores or more; env TELROUTE_WORKER_PROCESS].",
            show_default=False,
        ),
    ] = None,
    public_base_url: Annotated[str | None, typer.Option(help="Base of links behind a proxy.")] = None,
    log_format: Annotated[str | None, typer.Option(help="console or json.")] = None,
    cnam_approval_delay: Annotated[
        float | None,
        typer.Option(min=0, help="Sandbox: seconds until a new CNAM preset is approved by itself [default: 30]."),
    ] = None,
) -> None:
    """Run the HTTP API (and, unless --no-worker, the background worker)."""
    settings = settings_for(
        data_dir,
        database_url,
        host=host,
        port=port,
        requested_profile=profile,
        allow_private_targets=allow_private_targets,
        public_base_url=public_base_url,
        log_format=log_format,
        cnam_approval_delay=cnam_approval_delay,
        worker_process=worker_process,
    )
    from telroute import sandbox, server  # the app and its routes: only the serving commands pay for them

    bootstrap.prepare_database(settings)
    creates = settings.requested_profile or "sandbox"
    with refused_exits_2():
        uvloop.run(
            server.run(
                settings,
                http=True,
                worker=not no_worker,
                before_serving=sandbox.prepare,
                creates=creates,
                complete_settings=sandbox.with_admin_token,
            )
        )


def worker(
    host: Annotated[
        str | None, typer.Option(help="Address of the --port listener (default 127.0.0.1; env TELROUTE_WORKER_HOST).")
    ] = None,
    port: Annotated[
        int | None,
        typer.Option(
            min=1, max=65535, help="Serve /healthz, /readyz and /metrics on this port (env TELROUTE_WORKER_PORT)."
        ),
    ] = None,
    data_dir: DataDir = None,
    database_url: DatabaseUrl = None,
    profile: ProfileOption = None,
    deny_private_targets: Annotated[
        bool,
        typer.Option("--deny-private-targets", help="Refuse private targets even where the deployment allows them."),
    ] = False,
    wakeups_on_stdin: Annotated[
        bool, typer.Option("--wakeups-on-stdin", hidden=True, help="Run as `serve`'s child (worker_process.py).")
    ] = False,
) -> None:
    """Run only the background worker (deliveries, receipts, callbacks); with --port, its health and metrics.

    It runs under the deployment's stored profile: on a database that has none yet, give --profile."""
    settings = settings_for(
        data_dir,
        database_url,
        worker_host=host,
        worker_port=port,
        requested_profile=profile,
        allow_private_targets=False if deny_private_targets else None,
    )
    from telroute import server

    bootstrap.prepare_database(settings)
    with refused_exits_2():
        uvloop.run(
            server.run(settings, http=False, worker=True, creates=settings.requested_profile, parent=wakeups_on_stdin)
        )
