"""The request bodies of numbers and routes as input Structs, and how they are read.

Their types and `Meta` are the OpenAPI request components (`contract.py`). Bodies are converted laxly
(`"true"` is a boolean, as ever). When a Struct refuses, the errors stay those the routes gave before
the constraints were the Struct's: a wrong type first, in the order sent, then the ordered rules below
(`kit.inputs.typed`)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any, Literal

import msgspec

from telroute.errors import BadRequest, Unprocessable
from telroute.kit.http import convert
from telroute.kit.inputs import typed

MAX_ALIAS = 255
MAX_ROUTE_ID = 10**18 - 1
ROUTE_TYPES = ("host", "number", "uri")
RouteType = Literal["host", "number", "uri"]
RouteIdInput = (
    Annotated[str, msgspec.Meta(pattern=r"^[0-9]{1,18}$")] | Annotated[int, msgspec.Meta(ge=0, le=MAX_ROUTE_ID)]
)


class PurchaseBody(msgspec.Struct):
    cnam_lookups_enabled: bool = True
    messaging_enabled: bool = True


class NumberPatch(msgspec.Struct):
    alias: Annotated[str, msgspec.Meta(max_length=MAX_ALIAS)] | msgspec.UnsetType | None = msgspec.UNSET
    cnam_lookups_enabled: bool | msgspec.UnsetType = msgspec.UNSET


class NewRoute(msgspec.Struct):
    route_type: RouteType
    value: Annotated[str, msgspec.Meta(min_length=1)]
    alias: str | None = None
    edge_strategy: str | int | None = None


class RelationshipData(msgspec.Struct):
    type: Literal["route"]
    id: RouteIdInput


class RelationshipBody(msgspec.Struct):
    data: RelationshipData


def number_patch(attributes: Mapping[str, Any], pointer: str) -> NumberPatch:
    return typed(attributes, NumberPatch, pointer, rules=lambda _: _patch_rules(attributes, pointer), strict=False)


def _patch_rules(attributes: Mapping[str, Any], pointer: str) -> None:
    alias = attributes.get("alias")
    if isinstance(alias, str) and len(alias) > MAX_ALIAS:
        convert({**attributes, "alias": None}, NumberPatch, pointer)
        raise BadRequest(f"alias must be at most {MAX_ALIAS} characters", pointer="/alias")


def new_route(attributes: Mapping[str, Any], pointer: str) -> NewRoute:
    return typed(attributes, NewRoute, pointer, rules=lambda _: _route_rules(attributes, pointer), strict=False)


def _route_rules(attributes: Mapping[str, Any], pointer: str) -> None:
    route_type, value = attributes.get("route_type"), attributes.get("value")
    stand_in = dict(attributes)
    if isinstance(route_type, str):
        stand_in["route_type"] = ROUTE_TYPES[0]
    if value in (None, ""):
        stand_in["value"] = "-"
    convert(stand_in, NewRoute, pointer)
    if route_type not in ROUTE_TYPES:
        raise Unprocessable(
            f"route_type must be one of {', '.join(ROUTE_TYPES)}", pointer="/data/attributes/route_type"
        )
    raise Unprocessable("value is required", pointer="/data/attributes/value")


def route_id(document: Any) -> int:
    """The route a relationship body names: `{"data": {"type": "route", "id": "12"}}` (or `"id": 12`)."""
    body = typed(document, RelationshipBody, "", rules=lambda _: _relationship_rules(document), strict=False)
    identifier = str(body.data.id)
    if not identifier.isdigit():  # the pattern's `$` lets a trailing newline through
        raise BadRequest("data.id must be a route id", pointer="/data/id")
    return int(identifier)


def _relationship_rules(document: Any) -> None:
    data = document.get("data") if isinstance(document, dict) else None
    if not isinstance(data, dict):
        return
    kind, identifier = data.get("type"), data.get("id")
    stand_in = dict(data)
    if isinstance(kind, str):
        stand_in["type"] = "route"
    if isinstance(identifier, str) or (isinstance(identifier, int) and not isinstance(identifier, bool)):
        stand_in["id"] = 0
    convert({**document, "data": stand_in}, RelationshipBody, "")
    if kind != "route":
        raise BadRequest("data.type must be route", pointer="/data/type")
    raise BadRequest("data.id must be a route id", pointer="/data/id")
