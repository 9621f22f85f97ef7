"""The OpenAPI 3.1 document of everything telroute serves, at `GET /openapi.json`.

Assembled from contributions: each feature package declares its paths (operations, parameters, examples)
next to its routes in a `contract.py` with `paths()`, `schemas()` and `requests()`; the response
components come from the msgspec Structs that also render the responses (`kit.wire.struct_components`),
the request components from the input Structs the routes decode (`kit.contract.request_components`,
from `requests()`). This module adds what
every operation shares: the scalars, the error documents and responses, the operational paths, the
security schemes. To add a package, append its contract module to `CONTRIBUTORS`. The test
`tests/e2e/test_openapi*.py` validates real responses against the document and checks that it lists
exactly the routes the app serves; a schemathesis run checks that no generated request gets a status
code or a body the document does not describe.

Response schemas are strict (`additionalProperties: false`); request schemas describe what is accepted
and leave extra keys open (the server ignores them), except where the input Struct forbids unknown fields
(a CNAM preset's `value`: the server refuses others).
"""

from __future__ import annotations

from functools import cache
from types import ModuleType
from typing import Any

from telroute import __version__
from telroute.accounts import contract as accounts_contract
from telroute.cnam import contract as cnam_contract
from telroute.e911 import contract as e911_contract
from telroute.kit.contract import JSON, JSONAPI, Schema, closed, operation, ref, request_components
from telroute.kit.contract import document as response
from telroute.kit.wire import scalar_components, struct_components
from telroute.messages import contract as messages_contract
from telroute.messages import contract_v22 as messages_v22_contract
from telroute.numbers import contract as numbers_contract
from telroute.porting import contract as porting_contract
from telroute.probe_schemas import Health, Ready
from telroute.sandbox_tools import contract as sandbox_contract
from telroute.sandbox_tools import tools_contract as sandbox_tools_contract

__all__ = ["CONTRIBUTORS", "JSON", "JSONAPI", "document"]

# Modules with `paths()`, `schemas()` and `requests()` (name -> `kit.contract.RequestBody`); a path several
# declare gets all their methods.
CONTRIBUTORS: tuple[ModuleType, ...] = (
    numbers_contract,
    porting_contract,
    e911_contract,
    cnam_contract,
    messages_contract,
    messages_v22_contract,
    accounts_contract,
    sandbox_contract,
    sandbox_tools_contract,
)

TAGS = ("numbers", "routes", "porting", "e911", "cnam", "callbacks", "messages", "sandbox", "operations")
UUID = r"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$"
ERROR_STATUSES = (400, 401, 403, 404, 405, 408, 413, 422, 429, 431, 503)
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


def _errors() -> dict[str, Schema]:
    error = closed(
        {
            "id": {"type": "string", "format": "uuid", "pattern": UUID},
            "status": {"type": "integer", "minimum": 400, "maximum": 599},
            "title": {"type": "string", "enum": ["Client Error", "Server Error"]},
            "detail": {"type": "string", "minLength": 1},
            "code": {"type": "string", "pattern": r"^[a-z][a-z0-9_]*$"},
            "source": {
                "oneOf": [
                    closed({"parameter": {"type": "string"}}),
                    closed({"pointer": {"type": "string"}}),
                ]
            },
        },
        required=["id", "status", "title", "detail"],
    )
    error["if"] = {"properties": {"status": {"maximum": 499}}}
    error["then"] = {"properties": {"title": {"const": "Client Error"}}}
    error["else"] = {"properties": {"title": {"const": "Server Error"}}}
    error["description"] = "`status` equals the HTTP status; `title` is `Client Error` for 4xx, `Server Error` for 5xx."
    document = closed({"errors": {"type": "array", "items": ref("Error"), "minItems": 1, "maxItems": 1}})
    return {"Error": error, "ErrorDocument": document}


def _error_response(status: int) -> Schema:
    schema: Schema = {
        "allOf": [
            ref("ErrorDocument"),
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
        "content": {JSONAPI: {"schema": ref("ErrorDocument")}},
    }


def _operational_paths() -> dict[str, Schema]:
    ops = ("operations",)
    return {
        "/healthz": {
            "get": operation(
                "healthz",
                "Alive",
                {"200": response("Health", "The process serves HTTP.")},
                (),
                tags=ops,
                security=None,
            )
        },
        "/readyz": {
            "get": operation(
                "readyz",
                "Ready: the database answers and its schema is at this server's migration head",
                {"200": response("Ready", "Ready.")},
                (503,),
                tags=ops,
                security=None,
            )
        },
        "/metrics": {
            "get": operation(
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
            "get": operation(
                "openapi",
                "This document",
                {"200": {"description": "OpenAPI 3.1.", "content": {JSON: {"schema": {"type": "object"}}}}},
                (),
                tags=ops,
                security=None,
            )
        },
    }


def _paths() -> dict[str, Schema]:
    paths: dict[str, Schema] = {}
    for contributor in CONTRIBUTORS:
        for template, item in contributor.paths().items():
            paths.setdefault(template, {}).update(item)
    return {**paths, **_operational_paths()}


def _schemas() -> dict[str, Schema]:
    schemas: dict[str, Schema] = {**scalar_components(), **_errors()}
    for contributor in CONTRIBUTORS:
        schemas.update(contributor.schemas())
        schemas.update(request_components(contributor.requests()))
    schemas.update(struct_components((Health, Ready)))
    return schemas


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
            "summary": "Flowroute-compatible numbers and messaging "
            "(v2 numbers, E911, CNAM, portability, v2.1 and v2.2 messages).",
            "description": (
                "Every response body is JSON:API (`application/vnd.api+json`) except `/metrics`, `/openapi.json` "
                "and media bytes; every error is a JSON:API error document. Request bodies are read as JSON "
                "whatever their Content-Type. HEAD is answered wherever GET is."
            ),
            "license": {"name": "Apache-2.0", "identifier": "Apache-2.0"},
        },
        "servers": [{"url": "/"}],
        "tags": [{"name": name} for name in TAGS],
        "paths": _paths(),
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
