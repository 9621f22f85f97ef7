"""`telroute accounts`: create accounts, list them, rotate their keys, set their limits and signing secrets."""

from __future__ import annotations

import json
from typing import Annotated, Any

import typer
from rich.table import Table

from telroute.accounts import service as accounts_service
from telroute.bootstrap import Deps
from telroute.cli_common import DatabaseUrl, DataDir, console, run_with_deps, settings_for

accounts = typer.Typer(no_args_is_help=True, help="Manage accounts and their keys.")


def register(app: typer.Typer) -> None:
    app.add_typer(accounts, name="accounts")


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
