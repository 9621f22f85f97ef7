"""The porting part of the OpenAPI document: `POST /v2/portorders/portability`, next to `porting/api.py`;
the response components come from the Structs of `porting/schemas.py`."""

from __future__ import annotations

from typing import Any

from telroute.kit.contract import FORM, JSON, JSONAPI, RequestBody, Schema, body, document, operation
from telroute.kit.wire import struct_components
from telroute.porting.request import PortabilityBody
from telroute.porting.schemas import DOCUMENTS


def schemas() -> dict[str, Any]:
    return struct_components(DOCUMENTS)


def requests() -> dict[str, RequestBody]:
    return {"PortabilityRequest": RequestBody(PortabilityBody)}


def paths() -> dict[str, Schema]:
    check = operation(
        "checkPortability",
        "Which numbers could be ported into this deployment (numbers it already serves cannot)",
        {"200": document("Portability", "Each number given, as given, in `portable` or `nonportable`.")},
        (413, 422),
        tags=("porting",),
        request_body=body(
            "PortabilityRequest",
            media_types=(JSON, JSONAPI, FORM),
            description="JSON (Flowroute's reference) or a form with `numbers` repeated (the Python SDK).",
        ),
    )
    return {"/v2/portorders/portability": {"post": check}}
