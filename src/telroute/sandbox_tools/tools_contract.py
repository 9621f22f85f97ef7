"""The OpenAPI paths and schemas of the sandbox's callback view and virtual clock (a contributor of
`telroute.openapi`)."""

from __future__ import annotations

from typing import Any

from telroute.kit.contract import IN_PRODUCTION as _IN_PRODUCTION
from telroute.kit.contract import RequestBody, operation, page
from telroute.sandbox_tools import callbacks_model
from telroute.sandbox_tools.clock_request import ClockAdvance
from telroute.sandbox_tools.model import MAX_TIMEOUT

Schema = dict[str, Any]
_JSONAPI = "application/vnd.api+json"
_MOMENT = {"type": "string", "anyOf": [{"format": "date"}, {"format": "date-time"}]}


def _ref(name: str) -> Schema:
    return {"$ref": f"#/components/schemas/{name}"}


def _closed(properties: Schema, required: list[str] | None = None) -> Schema:
    return {
        "type": "object",
        "properties": properties,
        "required": list(properties) if required is None else required,
        "additionalProperties": False,
    }


def _nullable(schema: Schema) -> Schema:
    return {"anyOf": [schema, {"type": "null"}]}


def _query(name: str, schema: Schema, description: str = "") -> Schema:
    return {"name": name, "in": "query", "required": False, "schema": schema, "description": description or name}


def _document(schema: str, description: str) -> Schema:
    return {"description": description, "content": {_JSONAPI: {"schema": _ref(schema)}}}


def _callback() -> Schema:
    attributes = _closed(
        {
            "message_id": _nullable({"type": "string"}),
            "kind": {"type": "string", "enum": list(callbacks_model.KINDS)},
            "url": {"type": "string"},
            "payload": _nullable({"type": "object"}),
            "attempt": {"type": "integer", "minimum": 1},
            "status": _nullable({"type": "integer"}),
            "latency_ms": _nullable({"type": "number"}),
            "error": _nullable({"type": "string"}),
            "dead_lettered": {"type": "boolean"},
            "outcome": {"type": "string", "enum": list(callbacks_model.OUTCOMES)},
            "created_at": {"type": "string", "format": "date-time"},
        }
    )
    return _closed({"type": {"const": "sandbox_callback"}, "id": {"type": "string"}, "attributes": attributes})


def _clock() -> Schema:
    moment = {"type": "string", "format": "date-time"}
    attributes = _closed({"now": moment, "real_time": moment, "offset_seconds": {"type": "number", "minimum": 0}})
    return _closed({"type": {"const": "sandbox_clock"}, "id": {"const": "deployment"}, "attributes": attributes})


def schemas() -> dict[str, Schema]:
    links = _closed({"self": _ref("Url"), "next": _ref("Url")}, required=["self"])
    return {
        "SandboxCallback": _callback(),
        "SandboxCallbackDocument": _closed({"data": _ref("SandboxCallback")}),
        "SandboxCallbacks": _closed({"data": {"type": "array", "items": _ref("SandboxCallback")}, "links": links}),
        "SandboxClockDocument": _closed({"data": _clock()}),
    }


def requests() -> dict[str, RequestBody]:
    return {"SandboxClockAdvance": RequestBody(ClockAdvance)}


def _callback_filters() -> list[Schema]:
    return [
        _query("message_id", {"type": "string", "maxLength": callbacks_model.MAX_MESSAGE_ID}, "The message's id."),
        _query("kind", {"type": "string", "enum": list(callbacks_model.KINDS)}),
        _query(
            "outcome",
            {"type": "string", "enum": list(callbacks_model.OUTCOMES)},
            "`delivered`: 2xx; `failed`: to be tried again; `dead_lettered`: the last try failed.",
        ),
        _query("status", {"type": "integer", "minimum": 100, "maximum": 599}, "The app's HTTP status."),
        _query("after", _MOMENT, "Only tries after this moment (naive is UTC)."),
        _query("before", _MOMENT, "Only tries before this moment."),
    ]


def _clock_paths() -> dict[str, Schema]:
    tags = ("sandbox",)
    admin: list[dict[str, list[str]]] = [{"adminToken": []}]
    document = _document("SandboxClockDocument", "The deployment's time, real time and the offset between them.")
    body = {
        "required": True,
        "content": {media: {"schema": _ref("SandboxClockAdvance")} for media in ("application/json", _JSONAPI)},
    }
    return {
        "/sandbox/clock": {
            "get": operation(
                "getSandboxClock",
                "Sandbox: the deployment's virtual clock (admin token)." + _IN_PRODUCTION,
                {"200": document},
                (401, 404),
                tags=tags,
                security=admin,
            )
        },
        "/sandbox/clock/advance": {
            "post": operation(
                "advanceSandboxClock",
                "Sandbox: move the deployment's clock forward by `seconds`, for every account and process: receipt "
                "delays, callback retries, idempotency keys, rate limits and retention follow it; jobs now due run "
                "at once. Never backwards (422). Admin token." + _IN_PRODUCTION,
                {"200": document},
                (401, 404, 413, 422),
                tags=tags,
                request_body=body,
                security=admin,
            )
        },
    }


def paths() -> dict[str, Schema]:
    tags = ("sandbox",)
    timeout = {"type": "number", "minimum": 0, "maximum": MAX_TIMEOUT, "default": 10}
    return {
        "/sandbox/callbacks": {
            "get": operation(
                "searchSandboxCallbacks",
                "Sandbox: the callbacks telroute tried to send this account's app (URL, payload, the app's "
                "status, latency, error, attempt, dead-lettered or not), newest first." + _IN_PRODUCTION,
                {"200": _document("SandboxCallbacks", "Matching callback tries.")},
                (400, 422),
                tags=tags,
                parameters=[*_callback_filters(), *page(20, 100)],
            )
        },
        "/sandbox/callbacks/wait": {
            "get": operation(
                "waitForSandboxCallback",
                "Sandbox: the newest matching callback try, as soon as one exists (long poll)." + _IN_PRODUCTION,
                {"200": _document("SandboxCallbackDocument", "The newest matching try.")},
                (400, 408, 422),
                tags=tags,
                parameters=[*_callback_filters(), _query("timeout", timeout, "Seconds to wait, at most 60.")],
            )
        },
        **_clock_paths(),
    }
