"""Carrier-link and routing-rule use cases for the admin commands. Never commits: the caller owns the
transaction. Listings never include a link's password."""

from __future__ import annotations

import json
from typing import Any

from telroute.carriers import repository
from telroute.carriers.repository import DEFAULT_PREFIX as DEFAULT_PREFIX
from telroute.carriers.simulator import SIMULATOR
from telroute.kit.clock import format_timestamp
from telroute.kit.db import Connection, Row

HIDDEN_SETTINGS = frozenset({"password"})
LINK_COUNTERS = ("in_flight", "sent", "receipts", "inbound", "errors")


async def add_link(
    connection: Connection, *, name: str, kind: str, config: str, default: bool, replace: bool, now: int
) -> bool:
    """Store a link (False: it exists, or with `replace`, it does not); `default` routes everything else to it."""
    if replace:
        done = await repository.replace(connection, name=name, kind=kind, config=config, now=now)
    else:
        done = await repository.insert(connection, name=name, kind=kind, config=config, now=now)
    if done and default:
        await repository.set_prefix(connection, DEFAULT_PREFIX, name)
    return done


async def links(connection: Connection) -> list[dict[str, Any]]:
    rules = await repository.prefixes(connection)
    return [_link_item(row, rules) for row in await repository.all_carriers(connection)]


async def remove_link(connection: Connection, name: str) -> list[str] | None:
    """Remove a link; the routes still naming it (None: no such link)."""
    if not await repository.delete(connection, name):
        return None
    rules = await repository.prefixes(connection)
    return sorted(prefix or "default" for prefix, carrier in rules.items() if carrier == name)


async def link_states(connection: Connection, now: int) -> list[dict[str, Any]]:
    """Each link's state as its worker last reported it."""
    leases = {row["carrier"]: row for row in await repository.leases(connection)}
    return [_link_state_item(row, leases.get(row["name"]), now) for row in await repository.all_carriers(connection)]


async def add_route(connection: Connection, rule: str, carrier: str) -> bool:
    """Route a prefix to a carrier (False: no such carrier)."""
    if carrier != SIMULATOR and await repository.by_name(connection, carrier) is None:
        return False
    await repository.set_prefix(connection, rule, carrier)
    return True


async def routes(connection: Connection) -> list[dict[str, Any]]:
    """The routing rules, longest prefix first, then the default route."""
    rules = await repository.prefixes(connection)
    names = {row["name"] for row in await repository.all_carriers(connection)} | {SIMULATOR}
    rules.setdefault(DEFAULT_PREFIX, SIMULATOR)
    ordered = sorted(rules.items(), key=lambda rule: (rule[0] == DEFAULT_PREFIX, -len(rule[0]), rule[0]))
    return [
        {"prefix": prefix or None, "default": not prefix, "carrier": carrier, "carrier_exists": carrier in names}
        for prefix, carrier in ordered
    ]


async def remove_route(connection: Connection, rule: str) -> bool:
    return await repository.delete_prefix(connection, rule)


def _public(config: str) -> dict[str, Any]:
    return {key: value for key, value in json.loads(config).items() if key not in HIDDEN_SETTINGS}


def _link_item(row: Row, rules: dict[str, str]) -> dict[str, Any]:
    name = row["name"]
    return {
        "name": name,
        "kind": row["kind"],
        "default": rules.get(DEFAULT_PREFIX) == name,
        "prefixes": sorted(prefix for prefix, carrier in rules.items() if carrier == name and prefix),
        "config": _public(row["config"]),
        "created_at": format_timestamp(int(row["created_at_us"])),
        "updated_at": format_timestamp(int(row["updated_at_us"])),
    }


def link_state(lease: Row | None, now: int) -> tuple[str, bool]:
    """A link's state and whether it is bound: its holder's report while the holder's lease is live."""
    if lease is None:
        return "not started", False
    if int(lease["expires_at_us"]) > now:
        return str(lease["state"]), lease["state"] == "bound"
    return ("released" if lease["state"] == "released" else "no live worker"), False


def _link_state_item(row: Row, lease: Row | None, now: int) -> dict[str, Any]:
    stats: dict[str, Any] = json.loads(lease["stats"]) if lease is not None else {}
    state, bound = link_state(lease, now)
    live = lease is not None and int(lease["expires_at_us"]) > now
    item: dict[str, Any] = {
        "name": row["name"],
        "kind": row["kind"],
        "state": state,
        "bound": bound,
        "holder": lease["holder"] if live and lease is not None else None,
    }
    item.update({counter: int(stats.get(counter) or 0) for counter in LINK_COUNTERS})
    item["last_error"] = stats.get("last_error")
    item["reported_at"] = format_timestamp(int(lease["updated_at_us"])) if lease is not None else None
    item["details"] = {key: value for key, value in stats.items() if key not in (*LINK_COUNTERS, "last_error", "bound")}
    return item
