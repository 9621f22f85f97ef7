"""The OpenAPI paths of the sandbox's callback view and virtual clock (a contributor of `telroute.openapi`);
their response components come from the Structs of `callbacks_schemas.py` and `clock_schemas.py`."""

from __future__ import annotations

from typing import Any

from telroute.kit.contract import ADMIN, IN_PRODUCTION, RequestBody, Schema, body, document, operation, page
from telroute.kit.wire import struct_components
from telroute.sandbox_tools import callbacks_model, callbacks_schemas
from telroute.sandbox_tools.clock_request import ClockAdvance
from telroute.sandbox_tools.clock_schemas import SandboxClockDocument
from telroute.sandbox_tools.model import MAX_TIMEOUT

_MOMENT = {"type": "string", "anyOf": [{"format": "date"}, {"format": "date-time"}]}


def _query(name: str, schema: Schema, description: str = "") -> Schema:
    return {"name": name, "in": "query", "required": False, "schema": schema, "description": description or name}


def schemas() -> dict[str, Any]:
    return struct_components((*callbacks_schemas.DOCUMENTS, SandboxClockDocument))


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
    clock = document("SandboxClockDocument", "The deployment's time, real time and the offset between them.")
    return {
        "/sandbox/clock": {
            "get": operation(
                "getSandboxClock",
                "Sandbox: the deployment's virtual clock (admin token)." + IN_PRODUCTION,
                {"200": clock},
                (401, 404),
                tags=tags,
                security=ADMIN,
            )
        },
        "/sandbox/clock/advance": {
            "post": operation(
                "advanceSandboxClock",
                "Sandbox: move the deployment's clock forward by `seconds`, for every account and process: receipt "
                "delays, callback retries, idempotency keys, rate limits and retention follow it; jobs now due run "
                "at once. Never backwards (422). Admin token." + IN_PRODUCTION,
                {"200": clock},
                (401, 404, 413, 422),
                tags=tags,
                request_body=body("SandboxClockAdvance"),
                security=ADMIN,
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
                "status, latency, error, attempt, dead-lettered or not), newest first." + IN_PRODUCTION,
                {"200": document("SandboxCallbacks", "Matching callback tries.")},
                (400, 422),
                tags=tags,
                parameters=[*_callback_filters(), *page(20, 100)],
            )
        },
        "/sandbox/callbacks/wait": {
            "get": operation(
                "waitForSandboxCallback",
                "Sandbox: the newest matching callback try, as soon as one exists (long poll)." + IN_PRODUCTION,
                {"200": document("SandboxCallbackDocument", "The newest matching try.")},
                (400, 408, 422),
                tags=tags,
                parameters=[*_callback_filters(), _query("timeout", timeout, "Seconds to wait, at most 60.")],
            )
        },
        **_clock_paths(),
    }
