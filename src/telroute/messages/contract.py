"""The messaging part of the OpenAPI document: paths and parameters, next to `messages/api.py`; response
components come from the Structs of `messages/schemas.py`, request bodies from `messages/inputs.py`."""

from __future__ import annotations

from typing import Any

from telroute.kit.contract import (
    ADMIN,
    IDEMPOTENCY_KEY,
    RequestBody,
    Schema,
    body,
    document,
    operation,
    page,
    path,
    query,
)
from telroute.kit.wire import struct_components
from telroute.messages.inputs import InboundAttributes, SendAttributes
from telroute.messages.schemas import DOCUMENTS


def schemas() -> dict[str, Any]:
    return struct_components(DOCUMENTS)


def requests() -> dict[str, RequestBody]:
    return {
        "SendMessageRequest": RequestBody(SendAttributes, "message"),
        "InboundRequest": RequestBody(InboundAttributes, "message"),
    }


def paths() -> dict[str, Schema]:
    return {**_messages_paths(), **_inbound_paths()}


def _inbound_paths() -> dict[str, Schema]:
    return {
        "/sandbox/inbound": {
            "post": operation(
                "injectInbound",
                "Sandbox: inject an inbound SMS/MMS from the outside world (admin token)",
                {"202": document("MessageAccepted", "The inbound MDR was written and its callback queued.")},
                (400, 401, 404, 413, 422),
                tags=("sandbox",),
                request_body=body("InboundRequest"),
                security=ADMIN,
            )
        }
    }


def _messages_paths() -> dict[str, Schema]:
    tags = ("messages",)
    return {
        "/v2.1/messages": {
            "post": operation(
                "sendMessage",
                "Send an SMS or MMS (media are fetched before the 202)",
                {
                    "202": document(
                        "MessageAccepted",
                        "Accepted: it will be delivered.",
                        {"GetMessage": ("getMessage", "id", "$response.body#/data/id")},
                    )
                },
                (400, 403, 413, 422, 429),
                tags=tags,
                parameters=[IDEMPOTENCY_KEY],
                request_body=body("SendMessageRequest"),
            ),
            "get": operation(
                "listMessages",
                "Message detail records, newest first",
                {"200": document("Messages", "MDRs.")},
                (400,),
                tags=tags,
                parameters=[
                    query(
                        "start_date",
                        {"type": "string", "anyOf": [{"format": "date"}, {"format": "date-time"}]},
                        "`YYYY-MM-DD` or ISO 8601 date-time (naive is UTC).",
                        required=True,
                    ),
                    query(
                        "end_date",
                        {"type": "string", "anyOf": [{"format": "date"}, {"format": "date-time"}]},
                        "Not before `start_date`.",
                    ),
                    *page(100, 1000),
                ],
            ),
        },
        "/v2.1/messages/{id}": {
            "get": operation(
                "getMessage",
                "One MDR (an MMS adds its media in `included`)",
                {
                    "200": document(
                        "MessageDocument",
                        "The MDR.",
                        {"GetMedia": ("getMedia", "media_id", "$response.body#/included/0/id")},
                    )
                },
                (404,),
                tags=tags,
                parameters=[path("id", {"type": "string"}, "A message id (`mdr2-...`).")],
            ),
        },
        "/v2.1/media/{media_id}": {
            "get": operation(
                "getMedia",
                "The stored bytes of one MMS media item",
                {
                    "200": {
                        "description": "The media, with the MIME type it was fetched with.",
                        "content": {"*/*": {"schema": {"type": "string", "format": "binary"}}},
                    }
                },
                (404,),
                tags=tags,
                parameters=[path("media_id", {"type": "string"})],
            )
        },
    }
