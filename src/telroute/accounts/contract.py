"""The account callbacks part of the OpenAPI document, next to `accounts/api.py`."""

from __future__ import annotations

from typing import Any

from telroute.accounts.model import CALLBACK_TYPES
from telroute.kit.contract import Schema, body, flat_or_jsonapi, no_content, nullable, open_object, operation, path


def schemas() -> dict[str, Any]:
    url = {"type": "string", "format": "uri", "maxLength": 2048}
    callback = open_object({"callback_url": nullable(url)}, required=("callback_url",))
    return {"CallbackRequest": flat_or_jsonapi(callback, None)}


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
