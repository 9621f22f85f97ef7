"""The sandbox tools' part of the OpenAPI document, next to `sandbox_tools/api.py` and `faults_api.py`:
paths and request bodies; the account, message and fault components come from the Structs of
`sandbox_tools/schemas.py`."""

from __future__ import annotations

from typing import Any

from telroute.kit.contract import (
    ADMIN,
    IN_PRODUCTION,
    RequestBody,
    Schema,
    body,
    document,
    no_content,
    operation,
    page,
    path,
    query,
    string,
)
from telroute.kit.wire import PHONE_NUMBER_INPUT, struct_components
from telroute.messages.model import Status
from telroute.sandbox_tools import model as sandbox_model
from telroute.sandbox_tools.fault_request import FaultRequestAttributes
from telroute.sandbox_tools.schemas import DOCUMENTS, NewAccountAttributes


def schemas() -> dict[str, Any]:
    return struct_components(DOCUMENTS)


def requests() -> dict[str, RequestBody]:
    return {
        "SandboxAccountRequest": RequestBody(NewAccountAttributes, "sandbox_account"),
        "SandboxFaultRequest": RequestBody(FaultRequestAttributes, "sandbox_fault"),
    }


def paths() -> dict[str, Schema]:
    return _sandbox_paths()


def _message_filters() -> list[Schema]:
    moment = {"type": "string", "anyOf": [{"format": "date"}, {"format": "date-time"}]}
    return [
        query("direction", {"type": "string", "enum": list(sandbox_model.DIRECTIONS)}),
        query("to", string(PHONE_NUMBER_INPUT)),
        query("from", string(PHONE_NUMBER_INPUT)),
        query("status", {"type": "string", "enum": [status.value for status in Status]}),
        query(
            "contains",
            {"type": "string", "maxLength": sandbox_model.MAX_CONTAINS},
            "Text in the body, case-insensitive.",
        ),
        query("after", moment, "Only messages created after this moment (naive is UTC)."),
        query("before", moment, "Only messages created before this moment."),
    ]


def _sandbox_paths() -> dict[str, Schema]:
    tags = ("sandbox",)
    timeout = {"type": "number", "minimum": 0, "maximum": sandbox_model.MAX_TIMEOUT, "default": 10}
    return {
        "/sandbox/accounts": {
            "post": operation(
                "createSandboxAccount",
                "Sandbox: a new isolated account, with numbers bought and callbacks set (admin token)." + IN_PRODUCTION,
                {"201": document("SandboxAccount", "The account and its keys (the secret key is shown once).")},
                (400, 401, 404, 413, 422),
                tags=tags,
                request_body=body("SandboxAccountRequest", required=False),
                security=ADMIN,
            )
        },
        "/sandbox/accounts/{access_key}": {
            "delete": operation(
                "deleteSandboxAccount",
                "Sandbox: delete an account and all its data; its numbers go back to the inventory (admin token)."
                + IN_PRODUCTION,
                {"204": no_content("Deleted.")},
                (401, 404),
                tags=tags,
                parameters=[path("access_key", {"type": "string"})],
                security=ADMIN,
            )
        },
        "/sandbox/messages": {
            "get": operation(
                "searchSandboxMessages",
                "Sandbox: this account's messages matching the filters, newest first, with one-time codes."
                + IN_PRODUCTION,
                {"200": document("SandboxMessages", "Matching messages.")},
                (400, 422),
                tags=tags,
                parameters=[*_message_filters(), *page(20, 100)],
            )
        },
        "/sandbox/messages/wait": {
            "get": operation(
                "waitForSandboxMessage",
                "Sandbox: the newest matching message, as soon as one exists (long poll)." + IN_PRODUCTION,
                {"200": document("SandboxMessageDocument", "The newest matching message.")},
                (400, 408, 422),
                tags=tags,
                parameters=[*_message_filters(), query("timeout", timeout, "Seconds to wait, at most 60.")],
            )
        },
        "/sandbox/reset": {
            "post": operation(
                "resetSandboxAccount",
                "Sandbox: delete this account's messages, receipts, media, callback attempts, dead letters and "
                "pending jobs; keep the account, its keys, numbers and callback settings." + IN_PRODUCTION,
                {"204": no_content("Reset.")},
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
            "post": operation(
                "createSandboxFault",
                "Sandbox: a fault rule for this account: a forced delivery outcome for a destination or prefix, or "
                "errors (429, 500, 503) or delays for its API calls; for a count, a share, or until it expires."
                + IN_PRODUCTION,
                {"201": document("SandboxFaultDocument", "The rule.")},
                (400, 413, 422),
                tags=tags,
                request_body=body("SandboxFaultRequest"),
            ),
            "get": operation(
                "listSandboxFaults",
                "Sandbox: this account's fault rules, oldest first, with the uses they have left." + IN_PRODUCTION,
                {"200": document("SandboxFaults", "The rules.")},
                (),
                tags=tags,
            ),
        },
        "/sandbox/faults/{fault_id}": {
            "delete": operation(
                "deleteSandboxFault",
                "Sandbox: remove one of this account's fault rules." + IN_PRODUCTION,
                {"204": no_content("Removed.")},
                (404,),
                tags=tags,
                parameters=[path("fault_id", {"type": "string"})],
            )
        },
    }
