"""`telroute carriers ...` and `telroute routes ...`: carrier links and the routing rules.

These commands write the database only; every running worker re-reads it every 2 s, so a change
takes effect within a few seconds without a restart (a changed link is re-bound with its new
settings). The stored configuration holds the SMPP password in clear, because binding needs
it; no command ever prints it.
"""

from __future__ import annotations

import dataclasses
import json
import re
from typing import Annotated, Any

import typer
from rich.table import Table

from telroute.bootstrap import Deps
from telroute.carriers import service
from telroute.carriers.simulator import SIMULATOR
from telroute.carriers.smpp.config import SmppLinkConfig
from telroute.cli_common import AsJson, DatabaseUrl, DataDir, console, err_console, fail, run_with_deps, settings_for

carriers = typer.Typer(no_args_is_help=True, help="Manage carrier links (SMPP) and see their state.")
routes = typer.Typer(no_args_is_help=True, help="Route destinations to carriers by number prefix.")


def register(app: typer.Typer) -> None:
    app.add_typer(carriers, name="carriers")
    app.add_typer(routes, name="routes")


KINDS = ("smpp",)
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}")
_PREFIX = re.compile(r"\+?(\d{1,15})")
_REQUIRED = ("host", "port", "system_id", "password")
_CONVERTERS: dict[str, type] = {"int": int, "float": float, "str": str}


# --- carriers -----------------------------------------------------------------------------------


def _link_config(name: str, fields: dict[str, Any], settings: list[str]) -> SmppLinkConfig:
    """The link's settings from the options and `--set KEY=VALUE`s, validated; typer.Exit if invalid."""
    types = {field.name: str(field.type) for field in dataclasses.fields(SmppLinkConfig)}
    for item in settings:
        key, sep, raw = item.partition("=")
        key = key.strip().replace("-", "_")
        if not sep or key not in types or key == "name" or key in fields:
            allowed = ", ".join(sorted(set(types) - {"name", *fields}))
            raise fail(f"--set takes KEY=VALUE with KEY one of: {allowed} (got {item!r})")
        try:
            fields[key] = _CONVERTERS[types[key]](raw.strip())
        except ValueError as exc:
            raise fail(f"--set {key}: {exc}") from exc
    try:
        return SmppLinkConfig(name=name, **fields)
    except (TypeError, ValueError) as exc:
        raise fail(str(exc)) from exc


def _stored(config: SmppLinkConfig) -> str:
    """The JSON kept in `carriers.config`: the required settings and those that differ from the defaults,
    so that a later release's better defaults apply to links that never chose otherwise."""
    defaults = {field.name: field.default for field in dataclasses.fields(SmppLinkConfig)}
    values = config.to_dict()
    kept = {
        key: value for key, value in values.items() if key != "name" and (key in _REQUIRED or value != defaults[key])
    }
    return json.dumps(kept, sort_keys=True)


def _check_name(name: str) -> None:
    if not _NAME.fullmatch(name):
        raise fail("a carrier name is 1-64 letters, digits, '_', '.' or '-', starting with a letter or digit")
    if name == SIMULATOR:
        raise fail(f"{SIMULATOR!r} is the built-in simulator's name")


@carriers.command("add")
def add(
    name: Annotated[str, typer.Argument(help="A name for the link, e.g. upstream-1.")],
    host: Annotated[str, typer.Option(help="The SMSC's address.")],
    port: Annotated[int, typer.Option(help="The SMSC's port.")],
    system_id: Annotated[str, typer.Option("--system-id", help="SMPP system_id to bind as.")],
    password: Annotated[
        str, typer.Option(prompt=True, hide_input=True, help="SMPP password (prompted for when omitted).")
    ],
    kind: Annotated[str, typer.Option(help="Kind of link: smpp.")] = "smpp",
    system_type: Annotated[str, typer.Option("--system-type", help="SMPP system_type.")] = "",
    window: Annotated[int, typer.Option(help="Outstanding submit_sm at most.")] = 10,
    max_rate: Annotated[float, typer.Option("--max-rate", help="submit_sm per second at most; 0: unlimited.")] = 0,
    default: Annotated[bool, typer.Option("--default", help="Make it the default route.")] = False,
    settings: Annotated[
        list[str] | None,
        typer.Option(
            "--set",
            help="Another link setting as KEY=VALUE (repeatable): bind_mode, long_messages (udh|payload), "
            "data_coding (0|3|8), response_timeout, enquire_link_interval, reconnect_max_delay, ...",
        ),
    ] = None,
    replace: Annotated[bool, typer.Option("--replace", help="Replace the settings of an existing link.")] = False,
    data_dir: DataDir = None,
    database_url: DatabaseUrl = None,
) -> None:
    """Add a carrier link; running workers bind it within a few seconds."""
    _check_name(name)
    if kind not in KINDS:
        raise fail(f"--kind must be one of: {', '.join(KINDS)}")
    fields: dict[str, Any] = {
        "host": host,
        "port": port,
        "system_id": system_id,
        "password": password,
        "system_type": system_type,
        "window": window,
        "max_rate": max_rate,
    }
    stored = _stored(_link_config(name, fields, settings or []))

    async def action(deps: Deps) -> bool:
        async with deps.db.transaction() as connection:
            return await service.add_link(
                connection, name=name, kind=kind, config=stored, default=default, replace=replace, now=deps.clock()
            )

    if not run_with_deps(settings_for(data_dir, database_url), action):
        raise fail(f"no carrier {name!r} to replace" if replace else f"carrier {name!r} exists (use --replace)")
    done = "replaced" if replace else "added"
    console.print(f"carrier {name} {done} ({kind} {host}:{port} as {system_id})" + (", default route" * default))


@carriers.command("list")
def list_carriers(as_json: AsJson = False, data_dir: DataDir = None, database_url: DatabaseUrl = None) -> None:
    """List carrier links and their settings (never the password)."""

    async def action(deps: Deps) -> list[dict[str, Any]]:
        return await service.links(deps.db)

    found = run_with_deps(settings_for(data_dir, database_url), action)
    if as_json:
        typer.echo(json.dumps(found))
        return
    table = Table("name", "kind", "address", "system id", "window", "max rate", "routes")
    for item in found:
        config = item["config"]
        routes_of = (["default"] if item["default"] else []) + item["prefixes"]
        table.add_row(
            item["name"],
            item["kind"],
            f"{config['host']}:{config['port']}",
            config["system_id"],
            str(config.get("window", 10)),
            str(config.get("max_rate", 0) or "-"),
            ", ".join(routes_of) or "-",
        )
    console.print(table)


@carriers.command("remove")
def remove(
    name: Annotated[str, typer.Argument(help="The carrier to remove.")],
    data_dir: DataDir = None,
    database_url: DatabaseUrl = None,
) -> None:
    """Remove a carrier link; its worker unbinds within a few seconds.

    Routes that name it stay: messages on them wait (until they expire) rather than going elsewhere,
    so that `remove` then `add` of the same name (to change a setting) loses and reroutes nothing.
    Drop them with `telroute routes remove`."""

    async def action(deps: Deps) -> list[str] | None:
        async with deps.db.transaction() as connection:
            return await service.remove_link(connection, name)

    kept = run_with_deps(settings_for(data_dir, database_url), action)
    if kept is None:
        raise fail(f"no carrier {name!r}")
    console.print(f"carrier {name} removed")
    if kept:
        err_console.print(
            f"routes still naming {name}: {', '.join(kept)}; messages on them wait until a carrier {name} "
            "is added again (or drop them with `telroute routes remove`)"
        )


@carriers.command("status")
def status(as_json: AsJson = False, data_dir: DataDir = None, database_url: DatabaseUrl = None) -> None:
    """Each link's state as its worker last reported it (every 2 s): bound or not, which worker holds it,
    submits in flight, messages sent, receipts, errors and the last error. Counters start again when
    another worker takes the link over."""

    async def action(deps: Deps) -> list[dict[str, Any]]:
        return await service.link_states(deps.db, deps.clock())

    found = run_with_deps(settings_for(data_dir, database_url), action)
    if as_json:
        typer.echo(json.dumps(found))
        return
    table = Table("name", "state", "holder", "in flight", "sent", "receipts", "inbound", "errors", "last error")
    for item in found:
        table.add_row(
            item["name"],
            item["state"],
            item["holder"] or "-",
            *(str(item[counter]) for counter in service.LINK_COUNTERS),
            item["last_error"] or "-",
        )
    console.print(table)


# --- routes -------------------------------------------------------------------------------------


def _rule_prefix(prefix: str | None, default: bool) -> str:
    if (prefix is None) == (not default):
        raise fail("give --prefix or --default (one of them)")
    if default:
        return service.DEFAULT_PREFIX
    assert prefix is not None
    match = _PREFIX.fullmatch(prefix.strip())
    if match is None:
        raise fail("--prefix is the first 1-15 digits of the 11-digit destination, e.g. 1206")
    return match.group(1)


Prefix = Annotated[str | None, typer.Option("--prefix", help="Leading digits of the destination, e.g. 1206.")]
Default = Annotated[bool, typer.Option("--default", help="The default route (destinations no prefix matches).")]


@routes.command("add")
def routes_add(
    carrier: Annotated[str, typer.Option("--carrier", help=f"A carrier's name, or {SIMULATOR}.")],
    prefix: Prefix = None,
    default: Default = False,
    data_dir: DataDir = None,
    database_url: DatabaseUrl = None,
) -> None:
    """Send destinations starting with a prefix through a carrier (the longest matching prefix wins)."""
    rule = _rule_prefix(prefix, default)

    async def action(deps: Deps) -> bool:
        async with deps.db.transaction() as connection:
            return await service.add_route(connection, rule, carrier)

    if not run_with_deps(settings_for(data_dir, database_url), action):
        raise fail(f"no carrier {carrier!r} (see `telroute carriers list`)")
    console.print(f"route {rule or 'default'} -> {carrier}")


@routes.command("list")
def routes_list(as_json: AsJson = False, data_dir: DataDir = None, database_url: DatabaseUrl = None) -> None:
    """List the routing rules, longest prefix first, then the default route."""

    async def action(deps: Deps) -> list[dict[str, Any]]:
        return await service.routes(deps.db)

    found = run_with_deps(settings_for(data_dir, database_url), action)
    if as_json:
        typer.echo(json.dumps(found))
        return
    table = Table("prefix", "carrier")
    for item in found:
        missing = "" if item["carrier_exists"] else " (missing: messages wait)"
        table.add_row(item["prefix"] or "default", item["carrier"] + missing)
    console.print(table)


@routes.command("remove")
def routes_remove(
    prefix: Prefix = None, default: Default = False, data_dir: DataDir = None, database_url: DatabaseUrl = None
) -> None:
    """Remove a routing rule (`--default`: the default route goes back to the simulator)."""
    rule = _rule_prefix(prefix, default)

    async def action(deps: Deps) -> bool:
        async with deps.db.transaction() as connection:
            return await service.remove_route(connection, rule)

    if not run_with_deps(settings_for(data_dir, database_url), action):
        raise fail(f"no route {rule or 'default'}")
    console.print(f"route {rule or 'default'} removed")
