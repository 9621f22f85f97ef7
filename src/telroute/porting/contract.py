"""OpenAPI of porting: `POST /v2/portorders/portability`."""

from __future__ import annotations

from typing import Any

from telroute.kit.contract import JSON, JSONAPI, closed, document, operation
from telroute.porting.request import MAX_NUMBERS

_FORM = "application/x-www-form-urlencoded"


def paths() -> dict[str, Any]:
    check = operation(
        "checkPortability",
        "Which numbers could be ported into this deployment (numbers it already serves cannot)",
        {"200": document("Portability", "Each number given, as given, in `portable` or `nonportable`.")},
        (413, 422),
        tags=("porting",),
        request_body={
            "required": True,
            "description": "JSON (Flowroute's reference) or a form with `numbers` repeated (the Python SDK).",
            "content": {
                JSON: {"schema": {"$ref": "#/components/schemas/PortabilityRequest"}},
                JSONAPI: {"schema": {"$ref": "#/components/schemas/PortabilityRequest"}},
                _FORM: {"schema": {"$ref": "#/components/schemas/PortabilityForm"}},
            },
        },
    )
    return {"/v2/portorders/portability": {"post": check}}


def schemas() -> dict[str, Any]:
    numbers = {"type": "array", "items": {"type": "string"}}
    number_list = {
        "oneOf": [
            {"type": "array", "items": {"type": "string"}, "minItems": 1, "maxItems": MAX_NUMBERS},
            {"type": "string", "minLength": 1, "description": "One number, or several comma-delimited."},
        ]
    }
    return {
        "PortabilityRequest": {"type": "object", "properties": {"numbers": number_list}, "required": ["numbers"]},
        "PortabilityForm": {"type": "object", "properties": {"numbers": number_list}, "required": ["numbers"]},
        "Portability": closed(
            {
                "data": closed({"hypernetwork_enabled": numbers, "nonportable": numbers, "portable": numbers}),
                "meta": closed(
                    {
                        "nonportable_reasons": {
                            "type": "object",
                            "additionalProperties": {"type": "string"},
                            "description": "Why each nonportable number is: `malformed: ...` or "
                            "`already_served_here` (in this deployment's inventory, for sale or owned).",
                        }
                    }
                ),
            }
        ),
    }
