"""The `telroute` command: servers and admin commands. It calls services only."""

from __future__ import annotations

import json
import os
from typing import Annotated, Any

import typer
import uvloop
from rich.table import Table

from telroute import backup_cli, bootstrap, policy_cli
from telroute.accounts import service as accounts_service
from telroute.bootstrap import Deps
from telroute.carriers import cli as carriers_cli
from telroute.cli_common import (
    DatabaseUrl,
    DataDir,
    ProfileOption,
    console,
    refused_exits_2,
    run_with_deps,
    settings_for,
)
from telroute.cnam import cli as cnam_cli
from telroute.messages import cli as messages_cli
from telroute.numbers import cli as numbers_cli
from telroute.webhooks import cli as webhooks_cli

app = typer.Typer(
    no_args_is_help=True, add_completion=False, help="telroute: Flowroute-compatible numbers and messaging."
)
accounts = typer.Typer(no_args_is_help=True, help="Manage accounts and their keys.")
app.add_typer(accounts, name="accounts")
app.add_typer(numbers_cli.inventory, name="inventory")
app.add_typer(messages_cli.simulate, name="simulate")
app.add_typer(webhooks_cli.webhooks, name="webhooks")
app.add_typer(carriers_cli.carriers, name="carriers")
app.add_typer(carriers_cli.routes, name="routes")
app.add_typer(policy_cli.policy, name="policy")
app.command("init")(policy_cli.init)
app.add_typer(cnam_cli.cnam, name="cnam")


@app.command()
def migrate(data_dir: DataDir = None, database_url: DatabaseUrl = None) -> None:
    """Bring the database schema up to date."""

    async def nothing_more(deps: Deps) -> None:  # migrating is run_with_deps's first step
        return None

    run_with_deps(settings_for(data_dir, database_url), nothing_more)
    console.print("database is up to date")


@app.command()
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


@app.command()
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
        uvloop.run(server.run(settings, http=False, worker=True, creates=settings.requested_profile))


@accounts.command("create")
def accounts_create(
    name: Annotated[str, typer.Option(help="Account name.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
    data_dir: DataDir = None,
    database_url: DatabaseUrl = None,
) -> None:
    """Create an account and print its access key and secret key (shown once)."""

    async def action(deps: Deps) -> tuple[str, str]:
        async with deps.db.transaction() as connection:
            keys = await accounts_service.create(connection, name, now=deps.clock())
        return keys.access_key, keys.secret_key

    access_key, secret_key = run_with_deps(settings_for(data_dir, database_url), action)
    if as_json:
        typer.echo(json.dumps({"access_key": access_key, "secret_key": secret_key, "name": name}))
    else:
        console.print(f"access key: [bold]{access_key}[/bold]\nsecret key: [bold]{secret_key}[/bold]")


@accounts.command("list")
def accounts_list(
    as_json: Annotated[bool, typer.Option("--json")] = False,
    data_dir: DataDir = None,
    database_url: DatabaseUrl = None,
) -> None:
    """List accounts (never their secrets)."""

    async def action(deps: Deps) -> list[dict[str, Any]]:
        return [dict(row) for row in await accounts_service.list_all(deps.db)]

    rows = run_with_deps(settings_for(data_dir, database_url), action)
    if as_json:
        typer.echo(json.dumps([{k: v for k, v in row.items() if k != "webhook_secret"} for row in rows]))
        return
    table = Table("access key", "name", "sms/s", "mms/s", "signing")
    for row in rows:
        table.add_row(
            row["access_key"],
            row["name"],
            str(row["sms_per_second"]),
            str(row["mms_per_second"]),
            "yes" if row["webhook_secret"] else "no",
        )
    console.print(table)


@accounts.command("rotate-secret")
def accounts_rotate_secret(
    access_key: str,
    as_json: Annotated[bool, typer.Option("--json")] = False,
    data_dir: DataDir = None,
    database_url: DatabaseUrl = None,
) -> None:
    """Issue a new secret key; the old one stops working at once."""

    async def action(deps: Deps) -> str:
        async with deps.db.transaction() as connection:
            return await accounts_service.rotate_secret(connection, access_key)

    secret = run_with_deps(settings_for(data_dir, database_url), action)
    if as_json:
        typer.echo(json.dumps({"access_key": access_key, "secret_key": secret}))
    else:
        console.print(f"new secret key: [bold]{secret}[/bold]")


@accounts.command("set-limits")
def accounts_set_limits(
    access_key: str,
    sms_per_second: Annotated[int | None, typer.Option("--sms-per-second", min=1)] = None,
    mms_per_second: Annotated[int | None, typer.Option("--mms-per-second", min=1)] = None,
    data_dir: DataDir = None,
    database_url: DatabaseUrl = None,
) -> None:
    """Change an account's send rate limits."""

    async def action(deps: Deps) -> None:
        async with deps.db.transaction() as connection:
            await accounts_service.set_limits(connection, access_key, sms_per_second, mms_per_second)

    run_with_deps(settings_for(data_dir, database_url), action)
    console.print("limits updated")


@accounts.command("webhook-secret")
def accounts_webhook_secret(
    access_key: str,
    secret: Annotated[str | None, typer.Option(help="whsec_... to use; a new one is made when omitted.")] = None,
    clear: Annotated[bool, typer.Option("--clear", help="Stop signing callbacks.")] = False,
    as_json: Annotated[bool, typer.Option("--json")] = False,
    data_dir: DataDir = None,
    database_url: DatabaseUrl = None,
) -> None:
    """Set the Standard Webhooks signing secret of an account's callbacks."""
    from telroute.webhooks.signing import new_signing_secret

    value = None if clear else (secret or new_signing_secret())

    async def action(deps: Deps) -> None:
        async with deps.db.transaction() as connection:
            await accounts_service.set_webhook_secret(connection, access_key, value)

    run_with_deps(settings_for(data_dir, database_url), action)
    if as_json:
        typer.echo(json.dumps({"access_key": access_key, "webhook_secret": value}))
    else:
        console.print("callbacks are no longer signed" if value is None else f"signing secret: [bold]{value}[/bold]")


backup_cli.register(app)  # after the commands above, so that `--help` lists backup and restore after them


def main() -> None:
    os.umask(0o077)  # the data dir, the database and its WAL, keys and backups: the owner's alone
    app()
