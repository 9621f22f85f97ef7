"""The wire shapes of numbers and routes (JSON:API resources as Flowroute sends them)."""

from __future__ import annotations

from functools import cache
from typing import Any

import msgspec

from telroute.kit.db import Row
from telroute.numbers import model


@cache
def money_display(nd: int) -> float:
    """Prices come from a handful of tiers: convert each once."""
    return model.money_display(nd)


class PurchaseBody(msgspec.Struct):
    cnam_lookups_enabled: bool = True
    messaging_enabled: bool = True


class NumberPatch(msgspec.Struct, forbid_unknown_fields=False):
    alias: str | msgspec.UnsetType | None = msgspec.UNSET
    cnam_lookups_enabled: bool | msgspec.UnsetType = msgspec.UNSET


class RouteAttributes(msgspec.Struct):
    route_type: str
    value: str | None = None
    alias: str | None = None
    edge_strategy: str | int | None = None


class RelationshipData(msgspec.Struct):
    type: str
    id: str | int


class RelationshipBody(msgspec.Struct):
    data: RelationshipData


def available_number(row: Row, base: str) -> dict[str, Any]:
    value = row["value"]
    return {
        "type": "number",
        "id": value,
        "attributes": {
            "rate_center": row["rate_center"],
            "value": value,
            "monthly_cost": money_display(row["monthly_cost_nd"]),
            "state": row["state"],
            "number_type": row["number_type"],
            "setup_cost": money_display(row["setup_cost_nd"]),
        },
        "links": {"related": f"{base}/v2/numbers/{value}"},
    }


def owned_number(row: Row, base: str) -> dict[str, Any]:
    value = row["value"]
    return {
        "type": "number",
        "id": value,
        "attributes": {
            "rate_center": row["rate_center"],
            "value": value,
            "alias": row["alias"],
            "state": row["state"],
            "number_type": row["number_type"],
            "cnam_lookups_enabled": bool(row["cnam_lookups_enabled"]),
        },
        "links": {"self": f"{base}/v2/numbers/{value}"},
    }


def route(row: Row, base: str) -> dict[str, Any]:
    """A route as Flowroute renders it: `edge_strategy` is accepted on create and stored, never rendered."""
    return {
        "type": "route",
        "id": str(row["id"]),
        "attributes": {"route_type": row["route_type"], "alias": row["alias"], "value": row["value"]},
        "links": {"self": f"{base}/v2/routes/{row['id']}"},
    }


def _reference(kind: str, identifier: int | None) -> dict[str, Any]:
    return {"data": None if identifier is None else {"type": kind, "id": str(identifier)}}


def _route_reference(route_id: int | None) -> dict[str, Any]:
    return _reference("route", route_id)


def number_detail(row: Row, routes: list[Row], base: str) -> dict[str, Any]:
    resource = owned_number(row, base)
    resource["relationships"] = {
        "cnam_preset": _reference("cnam", row["cnam_preset_id"]),
        "e911_address": _reference("e911", row["e911_address_id"]),
        "failover_route": _route_reference(row["failover_route_id"]),
        "primary_route": _route_reference(row["primary_route_id"]),
    }
    return {
        "data": resource,
        "included": [route(item, base) for item in routes],
        "links": {"self": resource["links"]["self"]},
    }


def collection(items: list[dict[str, Any]], links: dict[str, str]) -> dict[str, Any]:
    return {"data": items, "links": links}


def reference(kind: str, identifier: str, related: str) -> dict[str, Any]:
    return {"type": kind, "id": identifier, "links": {"related": related}}


EDGE_STRATEGIES = (
    ("1", "us-east-nj"),
    ("2", "us-west-or"),
    ("3", "us-central-tx"),
    ("4", "us-west-ca"),
)


def edge_strategies() -> dict[str, Any]:
    return {
        "data": [
            {"type": "edge_strategy", "id": identifier, "attributes": {"name": name}}
            for identifier, name in EDGE_STRATEGIES
        ]
    }
