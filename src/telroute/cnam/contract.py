"""The CNAM part of the OpenAPI document: paths and parameters of /v2/cnams and a number's CNAM
relationship (`cnam` and `cnams`), next to `cnam/api.py`; response components come from the Structs of
`cnam/schemas.py`, the request body from `cnam.model.CnamBody`."""

from __future__ import annotations

from typing import Any

from telroute.cnam.model import CnamBody
from telroute.cnam.schemas import DOCUMENTS
from telroute.kit.contract import (
    FORM,
    JSON,
    JSONAPI,
    RequestBody,
    Schema,
    body,
    document,
    no_content,
    operation,
    page,
    path,
    query,
)
from telroute.kit.wire import struct_components

TAGS = ("cnam",)
_ID = path("cnam_id", {"type": "string"}, "The preset id (not digits: 404).")
_NUMBER = path("number", {"type": "string"}, "The number: 11 digits, 10 digits or `+1...` (malformed: 400).")
_BODY = body(
    "CnamRequest",
    media_types=(FORM, JSON, JSONAPI),
    description="`value` form-encoded (the Python SDK) or JSON, flat (the Node SDK) or JSON:API. At most 15 "
    "characters, at least one letter, only letters, digits, space and , . ' & - (else 422); a value the account "
    "already has: 422. New presets are pending: approved by an operator (`telroute cnam approve`), or in the "
    "sandbox by themselves after TELROUTE_CNAM_APPROVAL_DELAY seconds (default 30).",
)


def schemas() -> dict[str, Any]:
    return struct_components(DOCUMENTS)


def requests() -> dict[str, RequestBody]:
    return {"CnamRequest": RequestBody(CnamBody)}


def _relationship(spelling: str) -> dict[str, Schema]:
    suffix = "" if spelling == "cnam" else "NodeSpelling"
    return {
        f"/v2/numbers/{{number}}/relationships/{spelling}/{{cnam_id}}": {
            "patch": operation(f"associateCnam{suffix}", "Show an approved preset on a number (not approved: 422)",
                               {"202": document("CnamAssignment", "Assigned.")}, (404, 422), tags=TAGS,
                               parameters=[_NUMBER, _ID]),
        },
        f"/v2/numbers/{{number}}/relationships/{spelling}": {
            "delete": operation(f"unassociateCnam{suffix}", "Take the preset off a number",
                                {"202": document("CnamAssignment", "Unassigned (`id` null).")}, (404,), tags=TAGS,
                                parameters=[_NUMBER]),
        },
    }  # fmt: skip


def paths() -> dict[str, Schema]:
    approved = query("is_approved", {"type": "string"}, "`true` or `false`, any case, or 1/0.")
    return {
        "/v2/cnams": {
            "get": operation("listCnams", "The account's CNAM presets, by id",
                             {"200": document("CnamList", "Presets.")}, (), tags=TAGS,
                             parameters=[*page(10, 200), approved]),
            "post": operation("createCnam", "A new pending preset (201)",
                              {"201": document("CnamDocument", "The new preset.")}, (413, 422), tags=TAGS,
                              request_body=_BODY),
        },
        "/v2/cnams/{cnam_id}": {
            "get": operation("getCnam", "One preset", {"200": document("CnamDocument", "The preset.")}, (404,),
                             tags=TAGS, parameters=[_ID]),
            "delete": operation("deleteCnam", "Remove a preset; numbers showing it lose it",
                                {"204": no_content("Removed.")}, (404,), tags=TAGS, parameters=[_ID]),
        },
        **_relationship("cnam"),
        **_relationship("cnams"),
    }  # fmt: skip
