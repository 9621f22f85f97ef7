"""The account callbacks part of the OpenAPI document, next to `accounts/api.py`."""

from __future__ import annotations

from typing import Any

from telroute.accounts.inputs import CallbackBody
from telroute.accounts.model import CALLBACK_TYPES
from telroute.kit.contract import RequestBody, Schema, body, no_content, operation, path


def schemas() -> dict[str, Any]:
    return {}


def requests() -> dict[str, RequestBody]:
    return {"CallbackRequest": RequestBody(CallbackBody)}


def paths() -> dict[str, Schema]:
    return {
        "/v2.1/messages/{id}": {
            **{
                method: operation(
                    f"{verb}AccountCallback",
                    "Set (or clear) one of the account's messaging callbacks",
                    {"204": no_content("Saved.")},
                    (400, 404, 413),
                    tags=("callbacks",),
                    parameters=[path("id", {"type": "string", "enum": list(CALLBACK_TYPES)}, "The callback type.")],
                    request_body=body("CallbackRequest"),
                )
                for method, verb in (("put", "replace"), ("post", "create"))
            },
        }
    }
