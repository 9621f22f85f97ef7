"""The wire shapes of numbers and routes (JSON:API resources as Flowroute sends them): response
documents as Structs, rendered with msgspec and the source of their OpenAPI components (the request
bodies are `inputs.py`)."""

from __future__ import annotations

from functools import cache
from typing import Annotated, Literal, TypeVar

import msgspec

from telroute.kit.db import Row
from telroute.kit.wire import (
    PageLinks,
    PhoneNumber,
    Price,
    RateCenter,
    RelatedLink,
    RouteId,
    SelfLink,
    State,
    page_links,
)
from telroute.numbers import model

NumberType = Literal["standard", "tollfree"]
AreaCodeId = Annotated[str, msgspec.Meta(pattern=r"^[2-9]\d{2}$")]
ExchangeId = Annotated[str, msgspec.Meta(pattern=r"^[2-9]\d{2}[2-9]\d{2}$")]


@cache
def money_display(nd: int) -> float:
    """Prices come from a handful of tiers: convert each once."""
    return model.money_display(nd)


class _Closed(msgspec.Struct, forbid_unknown_fields=True):
    """Response shapes: their schema allows no other keys."""


class AvailableNumberAttributes(_Closed):
    rate_center: RateCenter
    value: PhoneNumber
    monthly_cost: Price
    state: State
    number_type: NumberType
    setup_cost: Price


class AvailableNumber(_Closed, tag_field="type", tag="number"):
    id: PhoneNumber
    attributes: AvailableNumberAttributes
    links: RelatedLink


class NumberAttributes(_Closed):
    rate_center: RateCenter
    value: PhoneNumber
    alias: Annotated[str, msgspec.Meta(max_length=255)] | None
    state: State
    number_type: NumberType
    cnam_lookups_enabled: bool


class OwnedNumber(_Closed, tag_field="type", tag="number"):
    id: PhoneNumber
    attributes: NumberAttributes
    links: SelfLink


class RouteReference(_Closed, tag_field="type", tag="route"):
    id: RouteId


class CnamReference(_Closed, tag_field="type", tag="cnam"):
    id: Annotated[str, msgspec.Meta(pattern=r"^[1-9]\d*$")]


class E911Reference(_Closed, tag_field="type", tag="e911"):
    id: Annotated[str, msgspec.Meta(pattern=r"^[1-9]\d*$")]


Reference = TypeVar("Reference", CnamReference, E911Reference)


class CnamPresetRelationship(_Closed):
    data: CnamReference | None


class E911AddressRelationship(_Closed):
    data: E911Reference | None


class PrimaryRoute(_Closed):
    data: RouteReference


class FailoverRoute(_Closed):
    data: RouteReference | None


class NumberRelationships(_Closed):
    cnam_preset: CnamPresetRelationship
    e911_address: E911AddressRelationship
    failover_route: FailoverRoute
    primary_route: PrimaryRoute


class NumberDetail(_Closed, tag_field="type", tag="number"):
    id: PhoneNumber
    attributes: NumberAttributes
    links: SelfLink
    relationships: NumberRelationships


class RouteAttributes(_Closed):
    route_type: Literal["sip-reg", "host", "number", "uri"]
    alias: str | None
    value: str | None


class Route(_Closed, tag_field="type", tag="route"):
    id: RouteId
    attributes: RouteAttributes
    links: SelfLink


class NumberDocument(_Closed):
    data: NumberDetail
    included: Annotated[list[Route], msgspec.Meta(min_length=1, max_length=2)]
    links: SelfLink


class RouteDocument(_Closed):
    data: Route
    links: SelfLink


class AreaCode(_Closed, tag_field="type", tag="areacode"):
    id: AreaCodeId
    links: RelatedLink


class Exchange(_Closed, tag_field="type", tag="exchange"):
    id: ExchangeId
    links: RelatedLink


class EdgeStrategyAttributes(_Closed):
    name: str


class EdgeStrategy(_Closed, tag_field="type", tag="edge_strategy"):
    id: Annotated[str, msgspec.Meta(pattern=r"^\d+$")]
    attributes: EdgeStrategyAttributes


class EdgeStrategies(_Closed):
    data: list[EdgeStrategy]


class AvailableNumbers(_Closed):
    data: list[AvailableNumber]
    links: PageLinks


class OwnedNumbers(_Closed):
    data: list[OwnedNumber]
    links: PageLinks


class AreaCodes(_Closed):
    data: list[AreaCode]
    links: PageLinks


class Exchanges(_Closed):
    data: list[Exchange]
    links: PageLinks


class Routes(_Closed):
    data: list[Route]
    links: PageLinks


# The documents the numbers contract answers with (their parts are components too).
DOCUMENTS = (
    AvailableNumbers,
    OwnedNumbers,
    AreaCodes,
    Exchanges,
    Routes,
    NumberDocument,
    RouteDocument,
    EdgeStrategies,
)


def available_number(row: Row, base: str) -> AvailableNumber:
    value = row["value"]
    attributes = AvailableNumberAttributes(
        rate_center=row["rate_center"],
        value=value,
        monthly_cost=money_display(row["monthly_cost_nd"]),
        state=row["state"],
        number_type=row["number_type"],
        setup_cost=money_display(row["setup_cost_nd"]),
    )
    return AvailableNumber(id=value, attributes=attributes, links=RelatedLink(f"{base}/v2/numbers/{value}"))


def _number_attributes(row: Row) -> NumberAttributes:
    return NumberAttributes(
        rate_center=row["rate_center"],
        value=row["value"],
        alias=row["alias"],
        state=row["state"],
        number_type=row["number_type"],
        cnam_lookups_enabled=bool(row["cnam_lookups_enabled"]),
    )


def owned_number(row: Row, base: str) -> OwnedNumber:
    value = row["value"]
    return OwnedNumber(id=value, attributes=_number_attributes(row), links=SelfLink(f"{base}/v2/numbers/{value}"))


def route(row: Row, base: str) -> Route:
    """A route as Flowroute renders it: `edge_strategy` is accepted on create and stored, never rendered."""
    attributes = RouteAttributes(route_type=row["route_type"], alias=row["alias"], value=row["value"])
    return Route(id=str(row["id"]), attributes=attributes, links=SelfLink(f"{base}/v2/routes/{row['id']}"))


def _reference(kind: type[Reference], identifier: int | None) -> Reference | None:
    return None if identifier is None else kind(str(identifier))


def route_document(row: Row, base: str) -> RouteDocument:
    resource = route(row, base)
    return RouteDocument(data=resource, links=resource.links)


def number_detail(row: Row, routes: list[Row], base: str) -> NumberDocument:
    links = SelfLink(f"{base}/v2/numbers/{row['value']}")
    failover = row["failover_route_id"]
    relationships = NumberRelationships(
        cnam_preset=CnamPresetRelationship(_reference(CnamReference, row["cnam_preset_id"])),
        e911_address=E911AddressRelationship(_reference(E911Reference, row["e911_address_id"])),
        failover_route=FailoverRoute(None if failover is None else RouteReference(str(failover))),
        primary_route=PrimaryRoute(RouteReference(str(row["primary_route_id"]))),
    )
    resource = NumberDetail(
        id=row["value"], attributes=_number_attributes(row), links=links, relationships=relationships
    )
    return NumberDocument(data=resource, included=[route(item, base) for item in routes], links=links)


def available_numbers(items: list[AvailableNumber], links: dict[str, str]) -> AvailableNumbers:
    return AvailableNumbers(data=items, links=page_links(links))


def owned_numbers(items: list[OwnedNumber], links: dict[str, str]) -> OwnedNumbers:
    return OwnedNumbers(data=items, links=page_links(links))


def routes_page(items: list[Route], links: dict[str, str]) -> Routes:
    return Routes(data=items, links=page_links(links))


def areacodes(found: list[str], base: str, links: dict[str, str]) -> AreaCodes:
    items = [
        AreaCode(id=npa, links=RelatedLink(f"{base}/v2/numbers/available/exchanges?areacode={npa}")) for npa in found
    ]
    return AreaCodes(data=items, links=page_links(links))


def exchanges(found: list[str], base: str, links: dict[str, str]) -> Exchanges:
    items = [
        Exchange(id=block, links=RelatedLink(f"{base}/v2/numbers/available?starts_with=1{block}")) for block in found
    ]
    return Exchanges(data=items, links=page_links(links))


EDGE_STRATEGIES = (
    ("1", "us-east-nj"),
    ("2", "us-west-or"),
    ("3", "us-central-tx"),
    ("4", "us-west-ca"),
)


def edge_strategies() -> EdgeStrategies:
    return EdgeStrategies([EdgeStrategy(id, EdgeStrategyAttributes(name)) for id, name in EDGE_STRATEGIES])
