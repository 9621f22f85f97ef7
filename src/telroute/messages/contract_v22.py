"""OpenAPI of /v2.2/messages: v2.1's operations with E.164 numbers (`+12065551234`)."""

from __future__ import annotations

from typing import Any

from telroute.kit.contract import (
    JSON,
    JSONAPI,
    body,
    closed,
    document,
    operation,
    path,
    query,
    ref,
)
from telroute.messages.api_v22 import CALLBACK_TYPES
from telroute.messages.model import MAX_BODY_CHARACTERS, MAX_MEDIA_URLS, STATUSES

E164 = r"^\+[1-9]\d{1,14}$"
_TAG = "messages"
_DATE = {"type": "string", "anyOf": [{"format": "date"}, {"format": "date-time"}]}
_PAGE = [
    query("limit", {"type": "integer", "minimum": 1, "maximum": 2**31 - 1, "default": 100}),
    query("offset", {"type": "integer", "minimum": 0, "maximum": 2**31 - 1, "default": 0}),
]


def paths() -> dict[str, Any]:
    message_id = path("id", {"type": "string"}, "A message id (`mdr2-...`) or, for PUT, a callback type.")
    return {
        "/v2.2/messages": {
            "post": operation(
                "sendMessageV22",
                "Send an SMS or MMS with E.164 numbers (v2.1's send)",
                {"202": document("MessageAccepted", "Accepted: it will be delivered; `links.self` is under /v2.2/.")},
                (403, 413, 422),
                tags=(_TAG,),
                request_body=body("SendMessageRequestV22"),
            ),
            "get": operation(
                "listMessagesV22",
                "Message detail records with E.164 numbers, newest first",
                {"200": document("MessagesV22", "MDRs.")},
                (),
                tags=(_TAG,),
                parameters=[
                    query("start_date", _DATE, "`YYYY-MM-DD` or ISO 8601 date-time.", required=True),
                    query("end_date", _DATE, "Not before `start_date`."),
                    *_PAGE,
                ],
            ),
        },
        "/v2.2/media/{media_id}": {
            "get": operation(
                "getMediaV22",
                "The stored bytes of one MMS media item (v2.1's media)",
                {
                    "200": {
                        "description": "The media, with the MIME type it was fetched with.",
                        "content": {"*/*": {"schema": {"type": "string", "format": "binary"}}},
                    }
                },
                (404,),
                tags=(_TAG,),
                parameters=[path("media_id", {"type": "string"}, "A media id from `included`.")],
            )
        },
        "/v2.2/messages/{id}": {
            "get": operation(
                "getMessageV22",
                "One MDR with E.164 numbers (an MMS adds its media in `included`)",
                {"200": document("MessageDocumentV22", "The MDR.")},
                (404,),
                tags=(_TAG,),
                parameters=[message_id],
            ),
            "put": operation(
                "replaceAccountCallbackV22",
                "Set (or clear) one of the account's messaging callbacks (the same settings as v2.1's)",
                {"204": {"description": "Saved. No body."}},
                (404, 413),
                tags=("callbacks",),
                parameters=[path("id", {"type": "string", "enum": list(CALLBACK_TYPES)}, "The type.")],
                request_body=body("CallbackRequest"),
            ),
        },
    }


def schemas() -> dict[str, Any]:
    number = {"type": "string", "pattern": E164}
    message = {
        "type": {"type": "string", "const": "message"},
        "id": ref("MessageId"),
        "attributes": ref("MdrAttributesV22"),
    }
    media = closed({"type": {"type": "string", "const": "media"}, "id": ref("MediaId")})
    relationships = closed({"media": closed({"data": {"type": "array", "items": media}})})
    return {
        "SendMessageRequestV22": _send_request(),
        "MdrAttributesV22": closed(_mdr_properties(number)),
        "MdrV22": closed(message),
        "MessageDetailV22": closed({**message, "relationships": relationships}, required=list(message)),
        "MessageDocumentV22": closed(
            {"data": ref("MessageDetailV22"), "included": {"type": "array", "items": ref("Media"), "minItems": 1}},
            required=["data"],
        ),
        "MessagesV22": closed(
            {
                "data": {"type": "array", "items": ref("MdrV22")},
                "links": closed({"self": ref("Url"), "next": ref("Url")}, required=["self"]),
            }
        ),
    }


def _mdr_properties(number: dict[str, Any]) -> dict[str, Any]:
    return {
        "body": {"oneOf": [{"type": "string"}, {"type": "null"}]},
        "status": {"type": "string", "enum": [*STATUSES, ""]},
        "direction": {"type": "string", "enum": ["outbound", "inbound"]},
        "amount_nanodollars": {"type": "integer", "minimum": 0},
        "amount_display": {"type": "string", "pattern": r"^\$\d+\.\d{4}$"},
        "to": number,
        "from": {"type": "string", "pattern": r"^\+"},
        "message_encoding": {"type": "integer", "enum": [0, 8]},
        "timestamp": ref("Timestamp"),
        "is_mms": {"type": "boolean"},
        "message_type": {"type": "string", "enum": ["longcode", "toll-free"]},
        "delivery_receipts": {"type": "array", "items": ref("DeliveryReceipt")},
    }


def _send_request() -> dict[str, Any]:
    url = {"type": "string", "format": "uri", "maxLength": 2048}
    attributes = {
        "type": "object",
        "properties": {
            "to": {"type": "string", "pattern": E164, "description": "E.164, e.g. `+12065551234`."},
            "from": {"type": "string", "pattern": E164, "description": "E.164; a number this account owns."},
            "body": {"type": "string", "maxLength": MAX_BODY_CHARACTERS},
            "is_mms": {"oneOf": [{"type": "boolean"}, {"type": "string", "enum": ["true", "false"]}]},
            "media_urls": {"type": "array", "items": url, "maxItems": MAX_MEDIA_URLS},
            "dlr_callback": url,
        },
        "required": ["to", "from"],
    }
    flat = {**attributes, "not": {"required": ["data"]}}
    data = {"type": "object", "properties": {"attributes": attributes}, "required": ["attributes"]}
    return {"anyOf": [flat, closed({"data": data})], "description": f"Sent as {JSON} or {JSONAPI}."}
