"""The E911 part of the OpenAPI document: paths, parameters and request bodies of /v2/e911s and a
number's E911 relationship, next to `e911/api.py`; response components come from the Structs of
`e911/schemas.py`."""

from __future__ import annotations

from typing import Any

from telroute.e911.model import E911Document
from telroute.e911.schemas import DOCUMENTS
from telroute.kit.contract import RequestBody, Schema, body, document, no_content, operation, page, path, query
from telroute.kit.wire import struct_components

TAGS = ("e911",)
_ID = path("e911_id", {"type": "string"}, "The address id (not digits: 404).")
_NUMBER = path("number", {"type": "string"}, "The number: 11 digits, 10 digits or `+1...` (malformed: 400).")
_BODY = body(
    "E911Request",
    description="JSON whatever the Content-Type (the Python SDK sends none). `data.id` and `links`, which the "
    "Python SDK's update echoes, are accepted (`data.id` must be the path's); `zip_code` is a second spelling of "
    "`zip`. Shape, types and lengths: 400 with a pointer; a state, country or ZIP that is not real: 422 with a "
    "pointer.",
)


def schemas() -> dict[str, Any]:
    return struct_components(DOCUMENTS)


def requests() -> dict[str, RequestBody]:
    return {"E911Request": RequestBody(E911Document, attributes=False)}


def paths() -> dict[str, Schema]:
    return {**_address_paths(), **_relationship_paths()}


def _address_paths() -> dict[str, Schema]:
    state = query("state", {"type": "string"}, "Two letters.")
    return {
        "/v2/e911s": {
            "get": operation("listE911s", "The account's E911 addresses, by id",
                             {"200": document("E911List", "Addresses.")}, (), tags=TAGS,
                             parameters=[*page(10, 200), state]),
            "post": operation("createE911", "Check and store an address (201)",
                              {"201": document("E911AddressDocument", "The new address.")}, (413, 422), tags=TAGS,
                              request_body=_BODY),
        },
        "/v2/e911s/validate": {
            "post": operation("validateE911", "Check an address without storing it (204)",
                              {"204": no_content("The address is valid.")}, (413, 422), tags=TAGS,
                              request_body=_BODY),
        },
        "/v2/e911s/{e911_id}": {
            "get": operation("getE911", "One address", {"200": document("E911AddressDocument", "The address.")},
                             (404,), tags=TAGS, parameters=[_ID]),
            "patch": operation("updateE911", "Change some attributes; the result is checked again",
                               {"200": document("E911AddressDocument", "The changed address.")}, (404, 413, 422),
                               tags=TAGS, parameters=[_ID], request_body=_BODY),
            "delete": operation("deleteE911", "Remove an address no number uses (else 422)",
                                {"204": no_content("Removed.")}, (404, 422), tags=TAGS, parameters=[_ID]),
        },
    }  # fmt: skip


def _relationship_paths() -> dict[str, Schema]:
    return {
        "/v2/e911s/{e911_id}/relationships/numbers": {
            "get": operation("listE911Numbers", "The account's numbers using the address",
                             {"200": document("E911NumberList", "Numbers.")}, (404,), tags=TAGS,
                             parameters=[_ID, *page(10, 200)]),
        },
        "/v2/numbers/{number}/relationships/e911s/{e911_id}": {
            "patch": operation("associateE911", "Give a number this address (no body)",
                               {"204": no_content("Assigned.")}, (404,), tags=TAGS, parameters=[_NUMBER, _ID]),
        },
        "/v2/numbers/{number}/relationships/e911s": {
            "delete": operation("disconnectE911", "Take the address off a number",
                                {"204": no_content("Disconnected.")}, (404,), tags=TAGS, parameters=[_NUMBER]),
        },
    }  # fmt: skip
