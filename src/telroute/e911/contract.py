"""OpenAPI paths and schemas of /v2/e911s and a number's E911 relationship."""

from __future__ import annotations

from typing import Any

import msgspec

from telroute.e911.model import AddressFields, E911Document
from telroute.e911.schemas import ATTRIBUTES
from telroute.kit import contract_parts as parts

TAG = "e911"
_ID = parts.path("e911_id", {"type": "string"}, "The address id (not digits: 404).")
_NUMBER = parts.path("number", {"type": "string"}, "The number: 11 digits, 10 digits or `+1...` (malformed: 400).")
_BODY = parts.body(
    "E911Request",
    ("application/json", parts.JSONAPI),
    "JSON whatever the Content-Type (the Python SDK sends none). `data.id` and `links`, which the Python "
    "SDK's update echoes, are accepted (`data.id` must be the path's); `zip_code` is a second spelling of `zip`. "
    "Shape, types and lengths: 400 with a pointer; a state, country or ZIP that is not real: 422 with a pointer.",
)


def paths() -> dict[str, Any]:
    op = parts.operation
    return {
        "/v2/e911s": {
            "get": op("listE911s", "The account's E911 addresses, by id", TAG,
                      {"200": parts.document("E911List", "Addresses.")}, (),
                      parameters=[*parts.page(200), parts.query("state", {"type": "string"}, "Two letters.")]),
            "post": op("createE911", "Check and store an address (201)", TAG,
                       {"201": parts.document("E911AddressDocument", "The new address.")}, (422,), request_body=_BODY),
        },
        "/v2/e911s/validate": {
            "post": op("validateE911", "Check an address without storing it (204)", TAG,
                       {"204": parts.no_content("The address is valid.")}, (422,), request_body=_BODY),
        },
        "/v2/e911s/{e911_id}": {
            "get": op("getE911", "One address", TAG, {"200": parts.document("E911AddressDocument", "The address.")},
                      (404,), parameters=[_ID]),
            "patch": op("updateE911", "Change some attributes; the result is checked again", TAG,
                        {"200": parts.document("E911AddressDocument", "The changed address.")}, (404, 422),
                        parameters=[_ID], request_body=_BODY),
            "delete": op("deleteE911", "Remove an address no number uses (else 422)", TAG,
                         {"204": parts.no_content("Removed.")}, (404, 422), parameters=[_ID]),
        },
        "/v2/e911s/{e911_id}/relationships/numbers": {
            "get": op("listE911Numbers", "The account's numbers using the address", TAG,
                      {"200": parts.document("E911NumberList", "Numbers.")}, (404,),
                      parameters=[_ID, *parts.page(200)]),
        },
        "/v2/numbers/{number}/relationships/e911s/{e911_id}": {
            "patch": op("associateE911", "Give a number this address (no body)", TAG,
                        {"204": parts.no_content("Assigned.")}, (404,), parameters=[_NUMBER, _ID]),
        },
        "/v2/numbers/{number}/relationships/e911s": {
            "delete": op("disconnectE911", "Take the address off a number", TAG,
                         {"204": parts.no_content("Disconnected.")}, (404,), parameters=[_NUMBER]),
        },
    }  # fmt: skip


def schemas() -> dict[str, Any]:
    _, components = msgspec.json.schema_components(
        (E911Document, AddressFields), ref_template="#/components/schemas/{name}"
    )
    text = parts.nullable({"type": "string"})
    attributes = {"type": "object", "required": list(ATTRIBUTES), "properties": dict.fromkeys(ATTRIBUTES, text)}
    number = parts.resource("number", {"type": "object", "properties": {"alias": text, "value": {"type": "string"}}})
    number["properties"]["id"] = {"type": "string"}
    return {
        **components,
        "E911Request": parts.ref("E911Document"),
        "E911Address": parts.resource("e911", attributes),
        "E911AddressDocument": parts.single("E911Address"),
        "E911List": parts.listing("E911Address"),
        "E911Number": number,
        "E911NumberList": parts.listing("E911Number"),
    }
