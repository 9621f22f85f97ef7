"""The numbers and routes part of the OpenAPI document: paths and parameters, next to `numbers/api.py`;
response components come from the Structs of `numbers/schemas.py`, request bodies from `numbers/inputs.py`."""

from __future__ import annotations

from typing import Any

from telroute.accounts.model import CALLBACK_TYPES
from telroute.kit.contract import (
    IDEMPOTENCY_KEY,
    RequestBody,
    Schema,
    body,
    document,
    no_content,
    operation,
    page,
    path,
    query,
    string,
)
from telroute.kit.wire import PHONE_NUMBER_INPUT, struct_components
from telroute.numbers.inputs import NewRoute, NumberPatch, PurchaseBody, RelationshipBody
from telroute.numbers.schemas import DOCUMENTS


def schemas() -> dict[str, Any]:
    return struct_components(DOCUMENTS)


def requests() -> dict[str, RequestBody]:
    return {
        "PurchaseRequest": RequestBody(PurchaseBody, "number"),
        "NumberPatchRequest": RequestBody(NumberPatch, "number"),
        "RouteRequest": RequestBody(NewRoute, "route"),
        "RouteRelationshipRequest": RequestBody(RelationshipBody, attributes=False),
    }


def paths() -> dict[str, Schema]:
    return {**_numbers_paths(), **_routes_paths()}


# Links from a purchase to what then works on that number. None to the route relationships: their 404 may
# be about the route named in the body, not the number (a fuzzer's link checks would misread it).
NUMBER_LINKS = {
    name: (target, "id", "$response.body#/data/id")
    for name, target in (
        ("GetNumber", "getAccountNumber"),
        ("UpdateNumber", "updateAccountNumber"),
        ("ReleaseNumber", "releaseNumber"),
        ("SetNumberCallback", "createNumberCallback"),
    )
}


DIGIT_FILTERS = [
    query("starts_with", string(r"^\+?\d+$"), "Digits; `1` is prepended unless present (`646` means `1646`)."),
    query("contains", string(r"^\d+$")),
    query("ends_with", string(r"^\d+$")),
]
NUMBER_ID = path("id", string(PHONE_NUMBER_INPUT), "The number: 11 digits, 10 digits or `+1...` (malformed: 400).")


def _numbers_paths() -> dict[str, Schema]:
    tags = ("numbers",)
    return {
        "/v2/numbers/available/areacodes": {
            "get": operation(
                "listAvailableAreaCodes",
                "Area codes with at least one purchasable number, ascending",
                {"200": document("AreaCodes", "Area codes.")},
                (400,),
                tags=tags,
                parameters=[
                    *page(10, 400),
                    query("max_setup_cost", string(r"^\d*\.?\d*$"), "Decimal dollars, e.g. `3` or `1.25`."),
                ],
            )
        },
        "/v2/numbers/available/exchanges": {
            "get": operation(
                "listAvailableExchanges",
                "NPA-NXX exchanges with purchasable numbers",
                {"200": document("Exchanges", "Exchanges.")},
                (400,),
                tags=tags,
                parameters=[
                    query("areacode", string(r"^[2-9]\d{2}$")),
                    *page(10, 200),
                    query("max_setup_cost", string(r"^\d*\.?\d*$")),
                ],
            )
        },
        "/v2/numbers/available": {
            "get": operation(
                "searchAvailableNumbers",
                "Search the inventory, ordered by number",
                {"200": document("AvailableNumbers", "Purchasable numbers.")},
                (400,),
                tags=tags,
                parameters=[
                    *DIGIT_FILTERS,
                    query("rate_center", string(r"^[A-Za-z0-9]{1,32}$"), "Needs `state`; any case."),
                    query("state", string(r"^[A-Za-z]{2}$"), "Any case."),
                    query(
                        "number_type",
                        {"type": "string", "enum": ["standard", "longcode", "tollfree", "toll-free"]},
                    ),
                    *page(10, 200),
                ],
            )
        },
        "/v2/numbers": {
            "get": operation(
                "listAccountNumbers",
                "The account's own numbers",
                {"200": document("OwnedNumbers", "The account's numbers.")},
                (400,),
                tags=tags,
                parameters=[*DIGIT_FILTERS, query("alias", {"type": "string"}, "Exact match."), *page(10, 200)],
            )
        },
        "/v2/numbers/{id}": {
            "parameters": [NUMBER_ID],
            "get": operation(
                "getAccountNumber",
                "One of the account's numbers, with its routes included",
                {"200": document("NumberDocument", "The number.")},
                (400, 404),
                tags=tags,
            ),
            "post": operation(
                "purchaseNumber",
                "Buy a number from the inventory",
                {"201": document("NumberDocument", "Bought: the number's detail document.", NUMBER_LINKS)},
                (400, 404, 405, 413, 422),
                tags=tags,
                parameters=[IDEMPOTENCY_KEY],
                request_body=body("PurchaseRequest", required=False, description="Optional; an empty body is fine."),
            ),
            "patch": operation(
                "updateAccountNumber",
                "Set a number's alias or CNAM lookups",
                {"200": document("NumberDocument", "The updated number.")},
                (400, 404, 405, 413),
                tags=tags,
                request_body=body("NumberPatchRequest"),
            ),
            "delete": operation(
                "releaseNumber",
                "Release a number back to the inventory",
                {"204": no_content("Released.")},
                (400, 404, 405),
                tags=tags,
            ),
        },
        "/v2/numbers/{id}/relationships/primary_route": _route_relationship("primary"),
        "/v2/numbers/{id}/relationships/failover_route": _route_relationship("failover"),
        "/v2/numbers/{id}/relationships/{callback_type}": {
            "parameters": [
                NUMBER_ID,
                path("callback_type", {"type": "string", "enum": list(CALLBACK_TYPES)}, "Unknown types: 404."),
            ],
            **{
                method: operation(
                    f"{verb}NumberCallback",
                    'Set (or clear, with null or "") one of a number\'s messaging callbacks',
                    {"204": no_content("Saved.")},
                    (400, 404, 413),
                    tags=("callbacks",),
                    request_body=body("CallbackRequest"),
                )
                for method, verb in (("post", "create"), ("put", "replace"), ("patch", "update"))
            },
        },
    }


def _route_relationship(kind: str) -> Schema:
    return {
        "parameters": [NUMBER_ID],
        "patch": operation(
            f"set{kind.title()}Route",
            f"Point the number's {kind} route at one of the account's routes (or route 0)",
            {"204": no_content("Saved.")},
            (400, 404, 413),
            tags=("routes",),
            request_body=body("RouteRelationshipRequest"),
        ),
    }


def _routes_paths() -> dict[str, Schema]:
    tags = ("routes",)
    return {
        "/v2/routes": {
            "get": operation(
                "listRoutes",
                "The account's inbound routes",
                {"200": document("Routes", "Routes.")},
                (400,),
                tags=tags,
                parameters=[query("route_type", {"type": "string"}), *page(10, 200)],
            ),
            "post": operation(
                "createRoute",
                "Create an inbound route",
                {
                    "201": document(
                        "RouteDocument", "Created.", {"GetRoute": ("getRoute", "route_id", "$response.body#/data/id")}
                    )
                },
                (400, 413, 422),
                tags=tags,
                request_body=body("RouteRequest"),
            ),
        },
        "/v2/routes/edge_strategies": {
            "get": operation(
                "listEdgeStrategies",
                "Edge strategies",
                {"200": document("EdgeStrategies", "All of them.")},
                (),
                tags=tags,
            )
        },
        "/v2/routes/{route_id}": {
            "get": operation(
                "getRoute",
                "One route of the account (or the built-in route 0)",
                {"200": document("RouteDocument", "The route.")},
                (404,),
                tags=tags,
                parameters=[path("route_id", {"type": "string"})],
            )
        },
    }
