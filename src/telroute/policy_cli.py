"""`telroute init` and `telroute policy ...`: the deployment's profile and outbound address policy.

Every change is an explicit command, recorded in the database (`telroute policy show` lists the
history) and logged. Running processes read the policy when they start: restart them after a change.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Annotated

import structlog
import typer

from telroute.bootstrap import Deps
from telroute.cli_common import AsJson, DatabaseUrl, DataDir, err_console, run_with_deps, settings_for
from telroute.config import Profile
from telroute.deployment import model, service
from telroute.deployment.model import Policy
from telroute.kit.addresses import parse_network
from telroute.kit.clock import format_timestamp
from telroute.kit.db import Connection

policy = typer.Typer(no_args_is_help=True, help="Show or change the deployment's outbound address policy.")
log = structlog.get_logger("telroute.deployment")
_RESTART = "restart running telroute processes for it to take effect"


def register(app: typer.Typer) -> None:
    app.add_typer(policy, name="policy")
    app.command("init")(init)


def _print(found: Policy, as_json: bool) -> None:
    if as_json:
        document = {
            "profile": found.profile,
            "private_targets": found.private_targets,
            "allowed_networks": list(found.allowed_networks),
        }
        typer.echo(json.dumps(document))
    else:
        typer.echo(found.describe())


UseCase = Callable[[Connection, int], Awaitable[tuple[Policy, str | None]]]


def _change(data_dir: DataDir, database_url: DatabaseUrl, use_case: UseCase, as_json: bool) -> None:
    """Run one change in a transaction; log and say what it changed, then print the policy."""

    async def action(deps: Deps) -> tuple[Policy, str | None]:
        async with deps.db.transaction() as connection:
            return await use_case(connection, deps.clock())

    changed, description = run_with_deps(settings_for(data_dir, database_url), action)
    if description is not None:
        log.warning("deployment policy changed", change=description)
        err_console.print(f"changed: {description}; {_RESTART}", highlight=False)
    _print(changed, as_json)


def _apply(data_dir: DataDir, database_url: DatabaseUrl, rule: Callable[[Policy], Policy], as_json: bool) -> None:
    _change(data_dir, database_url, lambda connection, now: service.change(connection, rule, now=now), as_json)


def _network_rule(change: Callable[[Policy, str], Policy], cidr: str) -> Callable[[Policy], Policy]:
    try:
        parse_network(cidr)
    except ValueError as exc:
        raise typer.BadParameter(f"{cidr!r} is not a network in CIDR form (e.g. 10.20.0.0/16): {exc}") from exc
    return lambda current: change(current, cidr)


def init(
    profile: Annotated[Profile, typer.Option("--profile", help="sandbox or production.")],
    data_dir: DataDir = None,
    database_url: DatabaseUrl = None,
    as_json: AsJson = False,
) -> None:
    """Create the deployment (migrate it and store its profile), or move a sandbox to production.

    A production deployment refuses callbacks and media on private addresses; its processes cannot
    be started as sandbox."""
    _change(data_dir, database_url, lambda connection, now: service.initialize(connection, profile, now=now), as_json)


@policy.command("show")
def show(data_dir: DataDir = None, database_url: DatabaseUrl = None, as_json: AsJson = False) -> None:
    """The stored profile and address policy, and every change made to them."""

    async def action(deps: Deps) -> tuple[Policy | None, list[tuple[int, str]]]:
        async with deps.db.transaction() as connection:
            return await service.peek(connection), await service.history(connection)

    found, changes = run_with_deps(settings_for(data_dir, database_url), action)
    if found is None:
        err_console.print("no profile is stored yet: `telroute init --profile production` (or sandbox)")
        raise typer.Exit(1)
    _print(found, as_json)
    if not as_json:
        for at_us, change in changes:
            typer.echo(f"  {format_timestamp(at_us)}  {change}")


@policy.command("allow-network")
def allow_network(
    cidr: Annotated[str, typer.Argument(help="A private network callbacks and media may reach, e.g. 10.20.0.0/16.")],
    data_dir: DataDir = None,
    database_url: DatabaseUrl = None,
    as_json: AsJson = False,
) -> None:
    """Let callbacks and media fetches reach one private network (an allow-list entry)."""
    _apply(data_dir, database_url, _network_rule(model.with_network, cidr), as_json)


@policy.command("remove-network")
def remove_network(
    cidr: str, data_dir: DataDir = None, database_url: DatabaseUrl = None, as_json: AsJson = False
) -> None:
    """Take a network off the allow-list."""
    _apply(data_dir, database_url, _network_rule(model.without_network, cidr), as_json)


@policy.command("private-targets")
def private_targets(
    choice: Annotated[str, typer.Argument(help="allow or deny (allow: sandbox deployments only).")],
    data_dir: DataDir = None,
    database_url: DatabaseUrl = None,
    as_json: AsJson = False,
) -> None:
    """Allow or refuse every private address (a production deployment can only refuse)."""
    if choice not in ("allow", "deny"):
        raise typer.BadParameter("choose allow or deny", param_hint="CHOICE")
    allowed = choice == "allow"
    _apply(data_dir, database_url, lambda current: model.with_private_targets(current, allowed), as_json)
