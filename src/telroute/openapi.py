"""The OpenAPI 3.1 document of everything telroute serves, at `GET /openapi.json`.

Written by hand: telroute owns its contract (the shapes, status codes and links of Flowroute's API, as
the official SDKs send and read them), and the wire shapes are built as plain dicts in each feature's
`schemas.py` (`accounts/api.py` for the callback body), so there is nothing to generate it from. The test
`tests/e2e/test_openapi*.py` validates real responses against it, and a schemathesis run checks that
no generated request gets a status code or a body the document does not describe.

Response schemas are strict (`additionalProperties: false` wherever the contract fixes the keys);
request schemas describe what is accepted and leave extra keys open (the server ignores them).
"""

from __future__ import annotations

from functools import cache
from typing import Any

from telroute import __version__
from telroute.accounts.model import CALLBACK_TYPES
from telroute.messages.model import MAX_BODY_CHARACTERS, MAX_MEDIA_URLS, STATUSES
from telroute.sandbox_tools import contract as sandbox_contract
from telroute.sandbox_tools import fault_rules
from telroute.sandbox_tools import model as sandbox_model

Schema = dict[str, Any]
JSONAPI = "application/vnd.api+json"
JSON = "application/json"

PHONE_NUMBER = r"^1[2-9]\d{2}[2-9]\d{6}$"
PHONE_NUMBER_INPUT = r"^(\+?1[2-9]\d{2}[2-9]\d{6}|[2-9]\d{2}[2-9]\d{6})$"
MESSAGE_ID = r"^mdr2-[0-9a-f]{32}$"
TIMESTAMP = r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{2}Z$"
UUID = r"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$"
MEDIA_ID = r"^\d{18}-[A-Za-z0-9._-]{1,105}$"
ABSOLUTE_URL = r"^https?://[^\s/?#]+"
MAX_QUERY_INTEGER = 999_999_999_999  # `limit` and `offset` take at most 12 digits

ERROR_STATUSES = (400, 401, 403, 404, 405, 408, 413, 422, 429, 431, 503)
EDGE_STATUSES = (408, 431, 503)  # answered by the HTTP protocol before any route (telroute.edge)
_ERROR_TEXT = {
    400: "Malformed query parameter, path segment or body (not JSON, not UTF-8, too deep, wrong shape or type).",
    401: "Missing, malformed or wrong credentials.",
    403: "`from` is not a number of this account.",
    404: "Not found, or it belongs to another account (never 403: no existence leak).",
    405: "Method not allowed here; `Allow` lists the methods that are.",
    408: "The request head or body came too slowly (`TELROUTE_HTTP_HEAD_TIMEOUT`, `..._BODY_*_TIMEOUT`), "
    "or, for a sandbox wait, nothing matched before its timeout (`detail` names the filters and what arrived).",
    413: "The request body is larger than the server's limit (1 MiB by default).",
    422: "Well formed but semantically invalid (see `detail` and `code`).",
    429: "Too many requests: the account's send rate, or failed logins from this address. See `Retry-After`.",
    431: "The request line and headers are larger than the server's limit (16 KiB by default).",
    503: "The database is unreachable or its schema is not current, or the process is at its connection cap; "
    "retry after `Retry-After` seconds.",
}


def _ref(name: str) -> Schema:
    return {"$ref": f"#/components/schemas/{name}"}


def _closed(properties: dict[str, Schema], required: list[str] | None = None) -> Schema:
    """An object with exactly these keys (`required`: all of them unless given)."""
    return {
        "type": "object",
        "properties": properties,
        "required": list(properties) if required is None else required,
        "additionalProperties": False,
    }


def _open(properties: dict[str, Schema], required: tuple[str, ...] = ()) -> Schema:
    schema: Schema = {"type": "object", "properties": properties}
    if required:
        schema["required"] = list(required)
    return schema


def _const(value: str) -> Schema:
    return {"type": "string", "const": value}


def _nullable(schema: Schema) -> Schema:
    return {"oneOf": [schema, {"type": "null"}]}


def _string(pattern: str, description: str = "") -> Schema:
    schema: Schema = {"type": "string", "pattern": pattern}
    if description:
        schema["description"] = description
    return schema


def _links(*names: str) -> Schema:
    return _closed({name: _ref("Url") for name in names})


def _scalars() -> dict[str, Schema]:
    return {
        "PhoneNumber": _string(PHONE_NUMBER, "An 11-digit NANP number without `+`."),
        "MessageId": _string(MESSAGE_ID, "`mdr2-` and 32 lower-case hex digits."),
        "Timestamp": _string(TIMESTAMP, "UTC, ISO 8601, exactly two fractional digits and `Z`."),
        "Url": {"type": "string", "format": "uri", "pattern": ABSOLUTE_URL},
        "RouteId": _string(r"^\d+$", "Route ids are decimal strings; `0` is the built-in sip-reg route."),
        "MediaId": _string(MEDIA_ID, "18 digits, `-`, the media's file name."),
        "State": _string(r"^[a-z]{2}$", "Two-letter state or province, lower case."),
        "RateCenter": _string(r"^[a-z0-9]+$", "Lower case."),
        "NumberType": {"type": "string", "enum": ["standard", "tollfree"]},
        "Price": {"type": "number", "minimum": 0, "description": "Dollars as a JSON number (`1.25`)."},
    }


def _errors() -> dict[str, Schema]:
    error = _closed(
        {
            "id": {"type": "string", "format": "uuid", "pattern": UUID},
            "status": {"type": "integer", "minimum": 400, "maximum": 599},
            "title": {"type": "string", "enum": ["Client Error", "Server Error"]},
            "detail": {"type": "string", "minLength": 1},
            "code": {"type": "string", "pattern": r"^[a-z][a-z0-9_]*$"},
            "source": {
                "oneOf": [
                    _closed({"parameter": {"type": "string"}}),
                    _closed({"pointer": {"type": "string"}}),
                ]
            },
        },
        required=["id", "status", "title", "detail"],
    )
    error["if"] = {"properties": {"status": {"maximum": 499}}}
    error["then"] = {"properties": {"title": {"const": "Client Error"}}}
    error["else"] = {"properties": {"title": {"const": "Server Error"}}}
    error["description"] = "`status` equals the HTTP status; `title` is `Client Error` for 4xx, `Server Error` for 5xx."
    document = _closed({"errors": {"type": "array", "items": _ref("Error"), "minItems": 1, "maxItems": 1}})
    return {"Error": error, "ErrorDocument": document}


def _numbers() -> dict[str, Schema]:
    available_attributes = _closed(
        {
            "rate_center": _ref("RateCenter"),
            "value": _ref("PhoneNumber"),
            "monthly_cost": _ref("Price"),
            "state": _ref("State"),
            "number_type": _ref("NumberType"),
            "setup_cost": _ref("Price"),
        }
    )
    owned_attributes = _closed(
        {
            "rate_center": _ref("RateCenter"),
            "value": _ref("PhoneNumber"),
            "alias": _nullable({"type": "string", "maxLength": 255}),
            "state": _ref("State"),
            "number_type": _ref("NumberType"),
            "cnam_lookups_enabled": {"type": "boolean"},
        }
    )
    route_reference = _closed({"type": _const("route"), "id": _ref("RouteId")})
    relationships = _closed(
        {
            "cnam_preset": _closed({"data": {"type": "null"}}),
            "e911_address": _closed({"data": {"type": "null"}}),
            "failover_route": _closed({"data": _nullable(route_reference)}),
            "primary_route": _closed({"data": route_reference}),
        }
    )
    number = {"type": _const("number"), "id": _ref("PhoneNumber")}
    return {
        "AvailableNumber": _closed({**number, "attributes": available_attributes, "links": _links("related")}),
        "OwnedNumber": _closed({**number, "attributes": owned_attributes, "links": _links("self")}),
        "NumberDetail": _closed(
            {**number, "attributes": owned_attributes, "links": _links("self"), "relationships": relationships}
        ),
        "NumberDocument": _closed(
            {
                "data": _ref("NumberDetail"),
                "included": {"type": "array", "items": _ref("Route"), "minItems": 1, "maxItems": 2},
                "links": _links("self"),
            }
        ),
        "AreaCode": _closed({"type": _const("areacode"), "id": _string(r"^[2-9]\d{2}$"), "links": _links("related")}),
        "Exchange": _closed(
            {"type": _const("exchange"), "id": _string(r"^[2-9]\d{2}[2-9]\d{2}$"), "links": _links("related")}
        ),
        "Route": _closed(
            {
                "type": _const("route"),
                "id": _ref("RouteId"),
                "attributes": _closed(
                    {
                        "route_type": {"type": "string", "enum": ["sip-reg", "host", "number", "uri"]},
                        "alias": _nullable({"type": "string"}),
                        "value": _nullable({"type": "string"}),
                    }
                ),
                "links": _links("self"),
            }
        ),
        "RouteDocument": _closed({"data": _ref("Route"), "links": _links("self")}),
        "EdgeStrategies": _closed(
            {
                "data": {
                    "type": "array",
                    "items": _closed(
                        {
                            "type": _const("edge_strategy"),
                            "id": _string(r"^\d+$"),
                            "attributes": _closed({"name": {"type": "string"}}),
                        }
                    ),
                }
            }
        ),
        "AvailableNumbers": _collection("AvailableNumber"),
        "OwnedNumbers": _collection("OwnedNumber"),
        "AreaCodes": _collection("AreaCode"),
        "Exchanges": _collection("Exchange"),
        "Routes": _collection("Route"),
    }


def _collection(item: str) -> Schema:
    page_links = _closed({"self": _ref("Url"), "next": _ref("Url")}, required=["self"])
    page_links["description"] = "`next` is present only when another page exists."
    return _closed({"data": {"type": "array", "items": _ref(item)}, "links": page_links})


def _mdr_properties() -> dict[str, Schema]:
    return {
        "body": _nullable({"type": "string"}),
        "status": {
            "type": "string",
            "enum": [*STATUSES, ""],  # "": an inbound message
        },
        "direction": {"type": "string", "enum": ["outbound", "inbound"]},
        "amount_nanodollars": {"type": "integer", "minimum": 0},
        "amount_display": _string(r"^\$\d+\.\d{4}$"),
        "to": _ref("PhoneNumber"),
        "from": _ref("PhoneNumber"),
        "message_encoding": {"type": "integer", "enum": [0, 8]},
        "timestamp": _ref("Timestamp"),
        "is_mms": {"type": "boolean"},
        "message_type": {"type": "string", "enum": ["longcode", "toll-free"]},
        "delivery_receipts": {"type": "array", "items": _ref("DeliveryReceipt")},
    }


def _messages() -> dict[str, Schema]:
    receipt = _closed(
        {
            "status": {"type": "string"},
            "status_code": _nullable({"type": "integer"}),
            "status_code_description": {"type": "string"},
            "timestamp": _ref("Timestamp"),
            "level": {"type": "integer", "enum": [1, 2]},
        }
    )
    attributes = _closed(_mdr_properties())
    media_reference = _closed({"type": _const("media"), "id": _ref("MediaId")})
    message = {"type": _const("message"), "id": _ref("MessageId"), "attributes": _ref("MdrAttributes")}
    relationships = _closed({"media": _closed({"data": {"type": "array", "items": media_reference}})})
    return {
        "DeliveryReceipt": receipt,
        "MdrAttributes": attributes,
        "Mdr": _closed(message),
        "MessageDetail": _closed({**message, "relationships": relationships}, required=list(message)),
        "Media": _closed(
            {
                "type": _const("media"),
                "id": _ref("MediaId"),
                "attributes": _closed(
                    {
                        "url": _ref("Url"),
                        "file_name": _string(r"^[A-Za-z0-9._-]+$"),
                        "mime_type": _string(r"^[a-z0-9][a-z0-9!#$&^_.+-]*/[a-z0-9][a-z0-9!#$&^_.+-]*$"),
                        "file_size": {"type": "integer", "minimum": 0},
                    }
                ),
                "links": _links("self"),
            }
        ),
        "MessageDocument": _closed(
            {"data": _ref("MessageDetail"), "included": {"type": "array", "items": _ref("Media"), "minItems": 1}},
            required=["data"],
        ),
        "Messages": _closed(
            {
                "data": {"type": "array", "items": _ref("Mdr")},
                "links": _closed({"self": _ref("Url"), "next": _ref("Url")}, required=["self"]),
            }
        ),
        "MessageAccepted": _closed(
            {"data": _closed({"id": _ref("MessageId"), "type": _const("message"), "links": _links("self")})}
        ),
    }


def _requests() -> dict[str, Schema]:
    url = {"type": "string", "format": "uri", "maxLength": 2048}
    send = _open(
        {
            "to": _string(PHONE_NUMBER_INPUT),
            "from": _string(PHONE_NUMBER_INPUT, "A number this account owns (else 403)."),
            "body": {"type": "string", "maxLength": MAX_BODY_CHARACTERS},
            "is_mms": {"oneOf": [{"type": "boolean"}, {"type": "string", "enum": ["true", "false"]}]},
            "media_urls": {"type": "array", "items": url, "maxItems": MAX_MEDIA_URLS},
            "dlr_callback": url,
        },
        required=("to", "from"),
    )
    inbound = _open(
        {
            "from": {"type": "string", "minLength": 1},
            "to": _string(PHONE_NUMBER_INPUT, "A number an account on this server owns (else 404)."),
            "body": {"type": "string"},
            "media_urls": {"type": "array", "items": url, "maxItems": MAX_MEDIA_URLS},
            "reply_to": {
                "type": "string",
                "minLength": 1,
                "description": "An outbound message's id: the reply comes from its `to` to its `from` (then optional).",
            },
        },
    )
    purchase = _open({"cnam_lookups_enabled": {"type": "boolean"}, "messaging_enabled": {"type": "boolean"}})
    patch = _open(
        {"alias": _nullable({"type": "string", "maxLength": 255}), "cnam_lookups_enabled": {"type": "boolean"}}
    )
    route = _open(
        {
            "route_type": {"type": "string", "enum": ["host", "number", "uri"]},
            "value": {"type": "string", "minLength": 1},
            "alias": _nullable({"type": "string"}),
            "edge_strategy": _nullable({"oneOf": [{"type": "string"}, {"type": "integer"}]}),
        },
        required=("route_type", "value"),
    )
    callback = _open({"callback_url": _nullable(url)}, required=("callback_url",))
    route_id = {"oneOf": [_string(r"^\d{1,18}$"), {"type": "integer", "minimum": 0, "maximum": 10**18 - 1}]}
    relationship = _closed({"data": _open({"type": _const("route"), "id": route_id}, required=("type", "id"))})
    return {
        "SendMessageRequest": _flat_or_jsonapi(send, "message"),
        "InboundRequest": _flat_or_jsonapi(inbound, "message"),
        "PurchaseRequest": _flat_or_jsonapi(purchase, "number"),
        "NumberPatchRequest": _flat_or_jsonapi(patch, "number"),
        "RouteRequest": _flat_or_jsonapi(route, "route"),
        "CallbackRequest": _flat_or_jsonapi(callback, None),
        "RouteRelationshipRequest": relationship,
    }


def _flat_or_jsonapi(attributes: Schema, kind: str | None) -> Schema:
    """Flowroute clients send both `{...attributes}` and `{"data": {"type": ..., "attributes": {...}}}`."""
    data = _open({"attributes": attributes}, required=("attributes",))
    if kind is not None:
        data["properties"]["type"] = _const(kind)
    flat = dict(attributes)
    flat["not"] = {"required": ["data"]}
    return {"anyOf": [flat, _closed({"data": data})]}


def _sandbox() -> dict[str, Schema]:
    callbacks = {name: _nullable({"type": "string", "format": "uri", "maxLength": 2048}) for name in CALLBACK_TYPES}
    count = {"type": "integer", "minimum": 0, "maximum": sandbox_model.MAX_NUMBERS}
    wanted = {"type": "array", "items": _string(PHONE_NUMBER_INPUT), "maxItems": sandbox_model.MAX_NUMBERS}
    new_account = _open(
        {
            "name": {"type": "string", "minLength": 1, "maxLength": 100},
            "numbers": {"oneOf": [count, wanted], "description": "How many numbers to buy, or which ones."},
            "area_code": _string(r"^[2-9]\d{2}$", "Where to pick the `numbers: N` from."),
            "callbacks": _open(callbacks),
        }
    )
    attributes = _closed(
        {
            "name": {"type": "string"},
            "access_key": {"type": "string"},
            "secret_key": {"type": "string"},
            "numbers": {"type": "array", "items": _ref("PhoneNumber")},
            "callbacks": _closed({name: _ref("Url") for name in CALLBACK_TYPES}, required=[]),
        }
    )
    account = _closed(
        {"type": _const("sandbox_account"), "id": {"type": "string"}, "attributes": attributes, "links": _links("self")}
    )
    codes = {"type": "array", "items": _string(r"^\d{4,8}$"), "description": "One-time codes found in the body."}
    in_reply_to = _nullable({"type": "string", "description": "The outbound message an injected reply answers."})
    message = _closed(
        {
            "type": _const("message"),
            "id": _ref("MessageId"),
            "attributes": _closed({**_mdr_properties(), "codes": codes, "in_reply_to": in_reply_to}),
            "links": _links("self"),
        }
    )
    return {
        "SandboxAccountRequest": _flat_or_jsonapi(new_account, "sandbox_account"),
        "SandboxAccount": _closed({"data": account}),
        "SandboxMessage": message,
        "SandboxMessageDocument": _closed({"data": _ref("SandboxMessage")}),
        "SandboxMessages": _collection("SandboxMessage"),
    }


def _fault_request() -> Schema:
    seconds = {"type": "number", "minimum": 0, "maximum": fault_rules.MAX_SECONDS}
    low, high = fault_rules.STATUS_CODES
    outcomes = [*fault_rules.DELIVERY_OUTCOMES, *(int(code) for code in fault_rules.API_OUTCOMES if code.isdigit())]
    return _open(
        {
            "kind": {"type": "string", "enum": list(fault_rules.KINDS)},
            "match": {
                "type": "string",
                "description": "delivery: a destination number or prefix (digits, optionally after `+`; the "
                "longest matching prefix wins). api: `*` or a method and path prefix, like `POST /v2.1/messages`.",
            },
            "outcome": {
                "enum": [*outcomes, "slow"],
                "description": "delivery: delivered, undelivered, expired, rejected (at submit), no_receipt. "
                "api: 429, 500, 503 or slow.",
            },
            "receipt_delay": {
                **seconds,
                "maximum": fault_rules.MAX_RECEIPT_DELAY,
                "description": "delivery: seconds before the level-2 receipt (on the deployment's clock).",
            },
            "status_code": {"type": "integer", "minimum": low, "maximum": high, "description": "delivery: the code"},
            "description": {"type": "string", "minLength": 1, "maxLength": fault_rules.MAX_DESCRIPTION},
            "delay": {**seconds, "description": "api: the delay of slow, the Retry-After of 429."},
            "count": {"type": "integer", "minimum": 1, "maximum": fault_rules.MAX_COUNT},
            "share": {"type": "number", "minimum": 0, "maximum": 1},
            "expires_in": {"type": "number", "minimum": 0, "maximum": fault_rules.MAX_EXPIRES_IN},
        },
        required=("kind", "outcome"),
    )


def _faults() -> dict[str, Schema]:
    number = {"type": "number"}
    attributes = _closed(
        {
            "kind": {"type": "string", "enum": list(fault_rules.KINDS)},
            "match": {"type": "string"},
            "outcome": {"type": ["string", "integer"]},
            "receipt_delay": _nullable(number),
            "status_code": _nullable({"type": "integer"}),
            "description": _nullable({"type": "string"}),
            "delay": _nullable(number),
            "remaining": _nullable({"type": "integer", "minimum": 0, "description": "Uses left; null: no count."}),
            "share": _nullable(number),
            "expires_at": _nullable({"type": "string", "format": "date-time"}),
            "created_at": {"type": "string", "format": "date-time"},
        },
        required=["kind", "match", "outcome", "remaining", "share", "expires_at", "created_at"],
    )
    fault = _closed(
        {"type": _const("sandbox_fault"), "id": {"type": "string"}, "attributes": attributes, "links": _links("self")}
    )
    return {
        "SandboxFaultRequest": _flat_or_jsonapi(_fault_request(), "sandbox_fault"),
        "SandboxFault": fault,
        "SandboxFaultDocument": _closed({"data": _ref("SandboxFault")}),
        "SandboxFaults": _closed({"data": {"type": "array", "items": _ref("SandboxFault")}}),
    }


def _schemas() -> dict[str, Schema]:
    return {
        **_scalars(),
        **_errors(),
        **_numbers(),
        **_messages(),
        **_requests(),
        **_sandbox(),
        **_faults(),
        **sandbox_contract.schemas(),
        "Health": _closed({"status": _const("ok")}),
        "Ready": _closed({"status": _const("ready")}),
    }


# --- responses and operations ---------------------------------------------------------------


def _error_response(status: int) -> Schema:
    schema: Schema = {
        "allOf": [
            _ref("ErrorDocument"),
            {"properties": {"errors": {"items": {"properties": {"status": {"const": status}}}}}},
        ]
    }
    response: Schema = {"description": _ERROR_TEXT[status], "content": {JSONAPI: {"schema": schema}}}
    header = {
        401: ("WWW-Authenticate", '`Basic realm="telroute"`'),
        405: ("Allow", "The methods this path allows."),
        429: ("Retry-After", "Seconds to wait before trying again."),
        503: ("Retry-After", "Seconds to wait before trying again."),
    }.get(status)
    if header is not None:
        response["headers"] = {header[0]: {"description": header[1], "schema": {"type": "string"}}}
    return response


def _server_error() -> Schema:
    return {
        "description": "Server error (503 when the database is briefly unavailable). Never a stack trace.",
        "content": {JSONAPI: {"schema": _ref("ErrorDocument")}},
    }


def _document(schema: str, description: str, links: dict[str, tuple[str, str, str]] | None = None) -> Schema:
    """`links`: name -> (operationId, its parameter, a runtime expression for the value)."""
    response: Schema = {"description": description, "content": {JSONAPI: {"schema": _ref(schema)}}}
    if links:
        response["links"] = {
            name: {"operationId": target, "parameters": {parameter: expression}}
            for name, (target, parameter, expression) in links.items()
        }
    return response


# Links from a purchase to what then works on that number. None to the route relationships: their 404 may
# be about the route named in the body, not the number (a fuzzer's link checks would misread it).
_NUMBER_LINKS = {
    name: (target, "id", "$response.body#/data/id")
    for name, target in (
        ("GetNumber", "getAccountNumber"),
        ("UpdateNumber", "updateAccountNumber"),
        ("ReleaseNumber", "releaseNumber"),
        ("SetNumberCallback", "createNumberCallback"),
    )
}


def _no_content(description: str) -> Schema:
    return {"description": description + " No body."}


def _body(schema: str, *, required: bool = True, description: str = "") -> Schema:
    """Any Content-Type is read as JSON (the Python SDK sends PATCH bodies with none)."""
    content = {media_type: {"schema": _ref(schema)} for media_type in (JSON, JSONAPI)}
    body: Schema = {"required": required, "content": content}
    if description:
        body["description"] = description
    return body


def _query(name: str, schema: Schema, description: str = "", *, required: bool = False) -> Schema:
    parameter: Schema = {"name": name, "in": "query", "required": required, "schema": schema}
    if description:
        parameter["description"] = description
    return parameter


def _path(name: str, schema: Schema, description: str = "") -> Schema:
    parameter: Schema = {"name": name, "in": "path", "required": True, "schema": schema}
    if description:
        parameter["description"] = description
    return parameter


def _page(default: int, maximum: int) -> list[Schema]:
    return [
        _query(
            "limit",
            {"type": "integer", "minimum": 1, "maximum": MAX_QUERY_INTEGER, "default": default},
            f"Page size; above {maximum} it is clamped to {maximum} (and echoed so).",
        ),
        _query("offset", {"type": "integer", "minimum": 0, "maximum": MAX_QUERY_INTEGER, "default": 0}),
    ]


_DIGIT_FILTERS = [
    _query("starts_with", _string(r"^\+?\d+$"), "Digits; `1` is prepended unless present (`646` means `1646`)."),
    _query("contains", _string(r"^\d+$")),
    _query("ends_with", _string(r"^\d+$")),
]
_IDEMPOTENCY_KEY = {
    "name": "Idempotency-Key",
    "in": "header",
    "required": False,
    "description": "The same key and body within 24 h replays the first response (`Idempotent-Replayed: true`).",
    "schema": {"type": "string", "minLength": 1, "maxLength": 255, "pattern": r"^[\x20-\x7e]+$"},
}
_NUMBER_ID = _path("id", _string(PHONE_NUMBER_INPUT), "The number: 11 digits, 10 digits or `+1...` (malformed: 400).")
_BASIC: list[dict[str, list[str]]] = [{"basic": []}]


def _operation(
    operation_id: str,
    summary: str,
    responses: dict[str, Schema],
    errors: tuple[int, ...],
    *,
    tags: tuple[str, ...],
    parameters: list[Schema] | None = None,
    body: Schema | None = None,
    security: list[dict[str, list[str]]] | None = _BASIC,
) -> Schema:
    """One operation. Any may answer 400 (a NUL in the URL is refused before routing), and 408, 431 and
    503 (the HTTP edge's limits); every authenticated one 401 and 429 (the failed-login throttle)."""
    codes = {400, *EDGE_STATUSES, *errors} | ({401, 429} if security == _BASIC else set())
    operation: Schema = {"operationId": operation_id, "summary": summary, "tags": list(tags)}
    if parameters:
        operation["parameters"] = parameters
    if body is not None:
        operation["requestBody"] = body
    all_responses = dict(responses)
    for status in sorted(codes):
        all_responses[str(status)] = {"$ref": f"#/components/responses/Error{status}"}
    all_responses["5XX"] = {"$ref": "#/components/responses/ServerError"}
    operation["responses"] = all_responses
    operation["security"] = security if security is not None else []
    return operation


def _numbers_paths() -> dict[str, Schema]:
    tags = ("numbers",)
    return {
        "/v2/numbers/available/areacodes": {
            "get": _operation(
                "listAvailableAreaCodes",
                "Area codes with at least one purchasable number, ascending",
                {"200": _document("AreaCodes", "Area codes.")},
                (400,),
                tags=tags,
                parameters=[
                    *_page(10, 400),
                    _query("max_setup_cost", _string(r"^\d*\.?\d*$"), "Decimal dollars, e.g. `3` or `1.25`."),
                ],
            )
        },
        "/v2/numbers/available/exchanges": {
            "get": _operation(
                "listAvailableExchanges",
                "NPA-NXX exchanges with purchasable numbers",
                {"200": _document("Exchanges", "Exchanges.")},
                (400,),
                tags=tags,
                parameters=[
                    _query("areacode", _string(r"^[2-9]\d{2}$")),
                    *_page(10, 200),
                    _query("max_setup_cost", _string(r"^\d*\.?\d*$")),
                ],
            )
        },
        "/v2/numbers/available": {
            "get": _operation(
                "searchAvailableNumbers",
                "Search the inventory, ordered by number",
                {"200": _document("AvailableNumbers", "Purchasable numbers.")},
                (400,),
                tags=tags,
                parameters=[
                    *_DIGIT_FILTERS,
                    _query("rate_center", _string(r"^[A-Za-z0-9]{1,32}$"), "Needs `state`; any case."),
                    _query("state", _string(r"^[A-Za-z]{2}$"), "Any case."),
                    _query(
                        "number_type",
                        {"type": "string", "enum": ["standard", "longcode", "tollfree", "toll-free"]},
                    ),
                    *_page(10, 200),
                ],
            )
        },
        "/v2/numbers": {
            "get": _operation(
                "listAccountNumbers",
                "The account's own numbers",
                {"200": _document("OwnedNumbers", "The account's numbers.")},
                (400,),
                tags=tags,
                parameters=[*_DIGIT_FILTERS, _query("alias", {"type": "string"}, "Exact match."), *_page(10, 200)],
            )
        },
        "/v2/numbers/{id}": {
            "parameters": [_NUMBER_ID],
            "get": _operation(
                "getAccountNumber",
                "One of the account's numbers, with its routes included",
                {"200": _document("NumberDocument", "The number.")},
                (400, 404),
                tags=tags,
            ),
            "post": _operation(
                "purchaseNumber",
                "Buy a number from the inventory",
                {"201": _document("NumberDocument", "Bought: the number's detail document.", _NUMBER_LINKS)},
                (400, 404, 405, 413, 422),
                tags=tags,
                parameters=[_IDEMPOTENCY_KEY],
                body=_body("PurchaseRequest", required=False, description="Optional; an empty body is fine."),
            ),
            "patch": _operation(
                "updateAccountNumber",
                "Set a number's alias or CNAM lookups",
                {"200": _document("NumberDocument", "The updated number.")},
                (400, 404, 405, 413),
                tags=tags,
                body=_body("NumberPatchRequest"),
            ),
            "delete": _operation(
                "releaseNumber",
                "Release a number back to the inventory",
                {"204": _no_content("Released.")},
                (400, 404, 405),
                tags=tags,
            ),
        },
        "/v2/numbers/{id}/relationships/primary_route": _route_relationship("primary"),
        "/v2/numbers/{id}/relationships/failover_route": _route_relationship("failover"),
        "/v2/numbers/{id}/relationships/{callback_type}": {
            "parameters": [
                _NUMBER_ID,
                _path("callback_type", {"type": "string", "enum": list(CALLBACK_TYPES)}, "Unknown types: 404."),
            ],
            **{
                method: _operation(
                    f"{verb}NumberCallback",
                    'Set (or clear, with null or "") one of a number\'s messaging callbacks',
                    {"204": _no_content("Saved.")},
                    (400, 404, 413),
                    tags=("callbacks",),
                    body=_body("CallbackRequest"),
                )
                for method, verb in (("post", "create"), ("put", "replace"), ("patch", "update"))
            },
        },
    }


def _route_relationship(kind: str) -> Schema:
    return {
        "parameters": [_NUMBER_ID],
        "patch": _operation(
            f"set{kind.title()}Route",
            f"Point the number's {kind} route at one of the account's routes (or route 0)",
            {"204": _no_content("Saved.")},
            (400, 404, 413),
            tags=("routes",),
            body=_body("RouteRelationshipRequest"),
        ),
    }


def _routes_paths() -> dict[str, Schema]:
    tags = ("routes",)
    return {
        "/v2/routes": {
            "get": _operation(
                "listRoutes",
                "The account's inbound routes",
                {"200": _document("Routes", "Routes.")},
                (400,),
                tags=tags,
                parameters=[_query("route_type", {"type": "string"}), *_page(10, 200)],
            ),
            "post": _operation(
                "createRoute",
                "Create an inbound route",
                {
                    "201": _document(
                        "RouteDocument", "Created.", {"GetRoute": ("getRoute", "route_id", "$response.body#/data/id")}
                    )
                },
                (400, 413, 422),
                tags=tags,
                body=_body("RouteRequest"),
            ),
        },
        "/v2/routes/edge_strategies": {
            "get": _operation(
                "listEdgeStrategies",
                "Edge strategies",
                {"200": _document("EdgeStrategies", "All of them.")},
                (),
                tags=tags,
            )
        },
        "/v2/routes/{route_id}": {
            "get": _operation(
                "getRoute",
                "One route of the account (or the built-in route 0)",
                {"200": _document("RouteDocument", "The route.")},
                (404,),
                tags=tags,
                parameters=[_path("route_id", {"type": "string"})],
            )
        },
    }


def _messages_paths() -> dict[str, Schema]:
    tags = ("messages",)
    return {
        "/v2.1/messages": {
            "post": _operation(
                "sendMessage",
                "Send an SMS or MMS (media are fetched before the 202)",
                {
                    "202": _document(
                        "MessageAccepted",
                        "Accepted: it will be delivered.",
                        {"GetMessage": ("getMessage", "id", "$response.body#/data/id")},
                    )
                },
                (400, 403, 413, 422, 429),
                tags=tags,
                parameters=[_IDEMPOTENCY_KEY],
                body=_body("SendMessageRequest"),
            ),
            "get": _operation(
                "listMessages",
                "Message detail records, newest first",
                {"200": _document("Messages", "MDRs.")},
                (400,),
                tags=tags,
                parameters=[
                    _query(
                        "start_date",
                        {"type": "string", "anyOf": [{"format": "date"}, {"format": "date-time"}]},
                        "`YYYY-MM-DD` or ISO 8601 date-time (naive is UTC).",
                        required=True,
                    ),
                    _query(
                        "end_date",
                        {"type": "string", "anyOf": [{"format": "date"}, {"format": "date-time"}]},
                        "Not before `start_date`.",
                    ),
                    *_page(100, 1000),
                ],
            ),
        },
        "/v2.1/messages/{id}": {
            "get": _operation(
                "getMessage",
                "One MDR (an MMS adds its media in `included`)",
                {
                    "200": _document(
                        "MessageDocument",
                        "The MDR.",
                        {"GetMedia": ("getMedia", "media_id", "$response.body#/included/0/id")},
                    )
                },
                (404,),
                tags=tags,
                parameters=[_path("id", {"type": "string"}, "A message id (`mdr2-...`).")],
            ),
            **{
                method: _operation(
                    f"{verb}AccountCallback",
                    "Set (or clear) one of the account's messaging callbacks",
                    {"204": _no_content("Saved.")},
                    (400, 404, 413),
                    tags=("callbacks",),
                    parameters=[_path("id", {"type": "string", "enum": list(CALLBACK_TYPES)}, "The callback type.")],
                    body=_body("CallbackRequest"),
                )
                for method, verb in (("put", "replace"), ("post", "create"))
            },
        },
        "/v2.1/media/{media_id}": {
            "get": _operation(
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
                parameters=[_path("media_id", {"type": "string"})],
            )
        },
    }


def _operational_paths() -> dict[str, Schema]:
    ops = ("operations",)
    return {
        "/sandbox/inbound": {
            "post": _operation(
                "injectInbound",
                "Sandbox: inject an inbound SMS/MMS from the outside world (admin token)",
                {"202": _document("MessageAccepted", "The inbound MDR was written and its callback queued.")},
                (400, 401, 404, 413, 422),
                tags=("sandbox",),
                body=_body("InboundRequest"),
                security=[{"adminToken": []}],
            )
        },
        "/healthz": {
            "get": _operation(
                "healthz",
                "Alive",
                {"200": _document("Health", "The process serves HTTP.")},
                (),
                tags=ops,
                security=None,
            )
        },
        "/readyz": {
            "get": _operation(
                "readyz",
                "Ready: the database answers and its schema is at this server's migration head",
                {"200": _document("Ready", "Ready.")},
                (503,),
                tags=ops,
                security=None,
            )
        },
        "/metrics": {
            "get": _operation(
                "metrics",
                "Prometheus metrics",
                {
                    "200": {
                        "description": "Prometheus text exposition format 0.0.4.",
                        "content": {"text/plain": {"schema": {"type": "string"}}},
                    }
                },
                (),
                tags=ops,
                security=None,
            )
        },
        "/openapi.json": {
            "get": _operation(
                "openapi",
                "This document",
                {"200": {"description": "OpenAPI 3.1.", "content": {JSON: {"schema": {"type": "object"}}}}},
                (),
                tags=ops,
                security=None,
            )
        },
    }


_ADMIN: list[dict[str, list[str]]] = [{"adminToken": []}]
_IN_PRODUCTION = " Served only in the sandbox profile (404 in production, like an unknown path)."


def _message_filters() -> list[Schema]:
    moment = {"type": "string", "anyOf": [{"format": "date"}, {"format": "date-time"}]}
    return [
        _query("direction", {"type": "string", "enum": list(sandbox_model.DIRECTIONS)}),
        _query("to", _string(PHONE_NUMBER_INPUT)),
        _query("from", _string(PHONE_NUMBER_INPUT)),
        _query("status", {"type": "string", "enum": list(STATUSES)}),
        _query(
            "contains",
            {"type": "string", "maxLength": sandbox_model.MAX_CONTAINS},
            "Text in the body, case-insensitive.",
        ),
        _query("after", moment, "Only messages created after this moment (naive is UTC)."),
        _query("before", moment, "Only messages created before this moment."),
    ]


def _sandbox_paths() -> dict[str, Schema]:
    tags = ("sandbox",)
    timeout = {"type": "number", "minimum": 0, "maximum": sandbox_model.MAX_TIMEOUT, "default": 10}
    return {
        "/sandbox/accounts": {
            "post": _operation(
                "createSandboxAccount",
                "Sandbox: a new isolated account, with numbers bought and callbacks set (admin token)."
                + _IN_PRODUCTION,
                {"201": _document("SandboxAccount", "The account and its keys (the secret key is shown once).")},
                (400, 401, 404, 413, 422),
                tags=tags,
                body=_body("SandboxAccountRequest", required=False),
                security=_ADMIN,
            )
        },
        "/sandbox/accounts/{access_key}": {
            "delete": _operation(
                "deleteSandboxAccount",
                "Sandbox: delete an account and all its data; its numbers go back to the inventory (admin token)."
                + _IN_PRODUCTION,
                {"204": _no_content("Deleted.")},
                (401, 404),
                tags=tags,
                parameters=[_path("access_key", {"type": "string"})],
                security=_ADMIN,
            )
        },
        "/sandbox/messages": {
            "get": _operation(
                "searchSandboxMessages",
                "Sandbox: this account's messages matching the filters, newest first, with one-time codes."
                + _IN_PRODUCTION,
                {"200": _document("SandboxMessages", "Matching messages.")},
                (400, 422),
                tags=tags,
                parameters=[*_message_filters(), *_page(20, 100)],
            )
        },
        "/sandbox/messages/wait": {
            "get": _operation(
                "waitForSandboxMessage",
                "Sandbox: the newest matching message, as soon as one exists (long poll)." + _IN_PRODUCTION,
                {"200": _document("SandboxMessageDocument", "The newest matching message.")},
                (400, 408, 422),
                tags=tags,
                parameters=[*_message_filters(), _query("timeout", timeout, "Seconds to wait, at most 60.")],
            )
        },
        "/sandbox/reset": {
            "post": _operation(
                "resetSandboxAccount",
                "Sandbox: delete this account's messages, receipts, media, callback attempts, dead letters and "
                "pending jobs; keep the account, its keys, numbers and callback settings." + _IN_PRODUCTION,
                {"204": _no_content("Reset.")},
                (),
                tags=tags,
            )
        },
        **_faults_paths(),
    }


def _faults_paths() -> dict[str, Schema]:
    tags = ("sandbox",)
    return {
        "/sandbox/faults": {
            "post": _operation(
                "createSandboxFault",
                "Sandbox: a fault rule for this account: a forced delivery outcome for a destination or prefix, or "
                "errors (429, 500, 503) or delays for its API calls; for a count, a share, or until it expires."
                + _IN_PRODUCTION,
                {"201": _document("SandboxFaultDocument", "The rule.")},
                (400, 413, 422),
                tags=tags,
                body=_body("SandboxFaultRequest"),
            ),
            "get": _operation(
                "listSandboxFaults",
                "Sandbox: this account's fault rules, oldest first, with the uses they have left." + _IN_PRODUCTION,
                {"200": _document("SandboxFaults", "The rules.")},
                (),
                tags=tags,
            ),
        },
        "/sandbox/faults/{fault_id}": {
            "delete": _operation(
                "deleteSandboxFault",
                "Sandbox: remove one of this account's fault rules." + _IN_PRODUCTION,
                {"204": _no_content("Removed.")},
                (404,),
                tags=tags,
                parameters=[_path("fault_id", {"type": "string"})],
            )
        },
    }


@cache
def document() -> dict[str, Any]:
    """The document (built once per process; callers must not mutate it)."""
    responses: dict[str, Schema] = {f"Error{status}": _error_response(status) for status in ERROR_STATUSES}
    responses["ServerError"] = _server_error()
    return {
        "openapi": "3.1.0",
        "jsonSchemaDialect": "https://json-schema.org/draft/2020-12/schema",
        "info": {
            "title": "telroute",
            "version": __version__,
            "summary": "Flowroute-compatible numbers and messaging (v2 numbers, v2.1 messages), self-hosted.",
            "description": (
                "Every response body is JSON:API (`application/vnd.api+json`) except `/metrics`, `/openapi.json` "
                "and media bytes; every error is a JSON:API error document. Request bodies are read as JSON "
                "whatever their Content-Type. HEAD is answered wherever GET is."
            ),
            "license": {"name": "Apache-2.0", "identifier": "Apache-2.0"},
        },
        "servers": [{"url": "/"}],
        "tags": [{"name": name} for name in ("numbers", "routes", "callbacks", "messages", "sandbox", "operations")],
        "paths": {
            **_numbers_paths(),
            **_routes_paths(),
            **_messages_paths(),
            **_sandbox_paths(),
            **sandbox_contract.paths(_operation, _page(20, 100)),
            **_operational_paths(),
        },
        "components": {
            "schemas": _schemas(),
            "responses": responses,
            "securitySchemes": {
                "basic": {
                    "type": "http",
                    "scheme": "basic",
                    "description": "User: the access key; password: the secret key.",
                },
                "adminToken": {
                    "type": "http",
                    "scheme": "bearer",
                    "description": "The sandbox admin token (`<data dir>/admin-token`).",
                },
            },
        },
    }
