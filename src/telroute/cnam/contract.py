"""OpenAPI paths and schemas of /v2/cnams and a number's CNAM relationship (`cnam` and `cnams`)."""

from __future__ import annotations

from typing import Any

from telroute.kit import contract_parts as parts

TAG = "cnam"
_ID = parts.path("cnam_id", {"type": "string"}, "The preset id (not digits: 404).")
_NUMBER = parts.path("number", {"type": "string"}, "The number: 11 digits, 10 digits or `+1...` (malformed: 400).")
_BODY = parts.body(
    "CnamRequest",
    ("application/x-www-form-urlencoded", "application/json", parts.JSONAPI),
    "`value` form-encoded (the Python SDK) or JSON, flat (the Node SDK) or JSON:API. At most 15 characters, "
    "at least one letter, only letters, digits, space and , . ' & - (else 422); a value the account already "
    "has: 422. New presets are pending: approved by an operator (`telroute cnam approve`), or in the sandbox "
    "by themselves after TELROUTE_CNAM_APPROVAL_DELAY seconds (default 30).",
)


def _relationship(spelling: str) -> dict[str, Any]:
    op = parts.operation
    suffix = "" if spelling == "cnam" else "NodeSpelling"
    return {
        f"/v2/numbers/{{number}}/relationships/{spelling}/{{cnam_id}}": {
            "patch": op(f"associateCnam{suffix}", "Show an approved preset on a number (not approved: 422)", TAG,
                        {"202": parts.document("CnamAssignment", "Assigned.")}, (404, 422),
                        parameters=[_NUMBER, _ID]),
        },
        f"/v2/numbers/{{number}}/relationships/{spelling}": {
            "delete": op(f"unassociateCnam{suffix}", "Take the preset off a number", TAG,
                         {"202": parts.document("CnamAssignment", "Unassigned (`id` null).")}, (404,),
                         parameters=[_NUMBER]),
        },
    }  # fmt: skip


def paths() -> dict[str, Any]:
    op = parts.operation
    approved = parts.query("is_approved", {"type": "string"}, "`true` or `false`, any case, or 1/0.")
    return {
        "/v2/cnams": {
            "get": op("listCnams", "The account's CNAM presets, by id", TAG,
                      {"200": parts.document("CnamList", "Presets.")}, (), parameters=[*parts.page(200), approved]),
            "post": op("createCnam", "A new pending preset (201)", TAG,
                       {"201": parts.document("CnamDocument", "The new preset.")}, (422,), request_body=_BODY),
        },
        "/v2/cnams/{cnam_id}": {
            "get": op("getCnam", "One preset", TAG, {"200": parts.document("CnamDocument", "The preset.")}, (404,),
                      parameters=[_ID]),
            "delete": op("deleteCnam", "Remove a preset; numbers showing it lose it", TAG,
                         {"204": parts.no_content("Removed.")}, (404,), parameters=[_ID]),
        },
        **_relationship("cnam"),
        **_relationship("cnams"),
    }  # fmt: skip


def schemas() -> dict[str, Any]:
    moment = parts.nullable({"type": "string", "description": "`2018-06-01 00:09:52.513092+00:00`"})
    attributes = {
        "type": "object",
        "required": ["approval_datetime", "creation_datetime", "is_approved", "rejection_reason", "value"],
        "properties": {
            "approval_datetime": moment,
            "creation_datetime": moment,
            "is_approved": {"type": "boolean"},
            "rejection_reason": parts.nullable({"type": "string"}),
            "value": {"type": "string"},
        },
    }
    value = {"type": "object", "required": ["value"], "properties": {"value": {"type": "string"}}}
    assignment_data = {
        "type": "object",
        "required": ["attributes", "id", "type"],
        "properties": {
            "attributes": {"type": "object", "properties": {"date_created": {"type": "string"}}},
            "id": parts.nullable({"type": "integer"}),
            "type": {"const": "cnam"},
        },
    }
    return {
        "CnamRequest": {"anyOf": [value, {"type": "object", "required": ["data"]}]},
        "CnamPreset": parts.resource("cnam", attributes),
        "CnamDocument": parts.single("CnamPreset"),
        "CnamList": parts.listing("CnamPreset"),
        "CnamAssignment": {"type": "object", "required": ["data"], "properties": {"data": assignment_data}},
    }
