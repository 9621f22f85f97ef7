"""OpenAPI of /v2.2/messages: v2.1's operations with E.164 numbers (`+12065551234`)."""

from __future__ import annotations

from typing import Any

import msgspec

from telroute.kit.contract import RequestBody, body, document, operation, path, query
from telroute.kit.wire import REF_TEMPLATE, struct_components
from telroute.messages.api_v22 import CALLBACK_TYPES
from telroute.messages.inputs import SendAttributesV22
from telroute.messages.schemas import DOCUMENTS
from telroute.messages.views import NUMBER_FIELDS, E164Number

REF_PREFIX = REF_TEMPLATE.removesuffix("{name}")
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


# The v2.1 components that hold MDR attributes, and their v2.2 variants' names.
V22_VARIANTS = {name: f"{name}V22" for name in ("MdrAttributes", "Mdr", "MessageDetail", "MessageDocument", "Messages")}


def schemas() -> dict[str, Any]:
    return _v22_documents()


def requests() -> dict[str, RequestBody]:
    return {"SendMessageRequestV22": RequestBody(SendAttributesV22, "message")}


def _v22_documents() -> dict[str, Any]:
    """v2.2 renders v2.1's Structs through `views.V22`, which changes only `to` and `from`: its components
    are v2.1's, generated from those Structs, with those two fields E.164 (and renamed where they hold them)."""
    v21 = struct_components(DOCUMENTS)
    variants = {V22_VARIANTS[name]: _renamed(v21[name]) for name in V22_VARIANTS}
    number = msgspec.json.schema(E164Number)
    variants["MdrAttributesV22"]["properties"].update(dict.fromkeys(NUMBER_FIELDS, number))
    return variants


def _renamed(node: Any) -> Any:
    """A copy of a schema whose references to the components with a v2.2 variant point at the variant."""
    if isinstance(node, list):
        return [_renamed(item) for item in node]
    if not isinstance(node, dict):
        return node
    copy = {key: _renamed(value) for key, value in node.items()}
    reference = copy.get("$ref", "").removeprefix(REF_PREFIX)
    if reference in V22_VARIANTS:
        copy["$ref"] = REF_PREFIX + V22_VARIANTS[reference]
    return copy
