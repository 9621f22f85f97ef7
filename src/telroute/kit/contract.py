"""Building blocks of the OpenAPI document that each feature's `contract.py` declares its paths with:
operations, parameters, request bodies and response references. Components come from Structs
(`kit.wire.struct_components` for responses, `request_components` for requests); `telroute.openapi`
assembles the document."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import msgspec

from telroute.kit.wire import struct_references

Schema = dict[str, Any]
JSONAPI = "application/vnd.api+json"
JSON = "application/json"
FORM = "application/x-www-form-urlencoded"
MAX_QUERY_INTEGER = 999_999_999_999  # `limit` and `offset` take at most 12 digits
EDGE_STATUSES = (408, 431, 503)  # answered by the HTTP protocol before any route (telroute.edge)
BASIC: list[dict[str, list[str]]] = [{"basic": []}]
ADMIN: list[dict[str, list[str]]] = [{"adminToken": []}]
IN_PRODUCTION = " Served only in the sandbox profile (404 in production, like an unknown path)."


def ref(name: str) -> Schema:
    return {"$ref": f"#/components/schemas/{name}"}


def closed(properties: dict[str, Schema], required: list[str] | None = None) -> Schema:
    """An object with exactly these keys (`required`: all of them unless given)."""
    return {
        "type": "object",
        "properties": properties,
        "required": list(properties) if required is None else required,
        "additionalProperties": False,
    }


def const(value: str) -> Schema:
    return {"type": "string", "const": value}


def nullable(schema: Schema) -> Schema:
    return {"oneOf": [schema, {"type": "null"}]}


def string(pattern: str, description: str = "") -> Schema:
    schema: Schema = {"type": "string", "pattern": pattern}
    if description:
        schema["description"] = description
    return schema


def links(*names: str) -> Schema:
    return closed({name: ref("Url") for name in names})


def collection(item: str) -> Schema:
    page_links = closed({"self": ref("Url"), "next": ref("Url")}, required=["self"])
    page_links["description"] = "`next` is present only when another page exists."
    return closed({"data": {"type": "array", "items": ref(item)}, "links": page_links})


@dataclass(frozen=True)
class RequestBody:
    """A request body as the input Struct its route decodes: the whole body (`attributes=False`), or the
    attributes of a flat body or of a JSON:API document of `kind` (see `kit.http.attributes_of`)."""

    struct: type[msgspec.Struct]
    kind: str | None = None
    attributes: bool = True


def request_components(requests: Mapping[str, RequestBody]) -> dict[str, Schema]:
    """The request components named in `requests`, and the components of their Structs. Open unless the
    Struct forbids unknown fields: the server ignores the keys it does not read."""
    references, components = struct_references(request.struct for request in requests.values())
    for (name, request), reference in zip(requests.items(), references, strict=True):
        components[name] = flat_or_jsonapi(reference, request.kind) if request.attributes else reference
    return components


def flat_or_jsonapi(attributes: Schema, kind: str | None) -> Schema:
    """Flowroute clients send both `{...attributes}` and `{"data": {"type": ..., "attributes": {...}}}`."""
    data: Schema = {"type": "object", "properties": {"attributes": attributes}, "required": ["attributes"]}
    if kind is not None:
        data["properties"]["type"] = const(kind)
    flat = {**attributes, "not": {"required": ["data"]}}
    return {"anyOf": [flat, {"type": "object", "properties": {"data": data}, "required": ["data"]}]}


def document(schema: str, description: str, response_links: dict[str, tuple[str, str, str]] | None = None) -> Schema:
    """`response_links`: name -> (operationId, its parameter, a runtime expression for the value)."""
    response: Schema = {"description": description, "content": {JSONAPI: {"schema": ref(schema)}}}
    if response_links:
        response["links"] = {
            name: {"operationId": target, "parameters": {parameter: expression}}
            for name, (target, parameter, expression) in response_links.items()
        }
    return response


def no_content(description: str) -> Schema:
    return {"description": description + " No body."}


def body(
    schema: str, *, required: bool = True, description: str = "", media_types: tuple[str, ...] = (JSON, JSONAPI)
) -> Schema:
    """Any Content-Type is read as JSON (the Python SDK sends PATCH bodies with none) unless `media_types`
    names others (a form, for the bodies that also read one)."""
    content = {media_type: {"schema": ref(schema)} for media_type in media_types}
    request_body: Schema = {"required": required, "content": content}
    if description:
        request_body["description"] = description
    return request_body


def query(name: str, schema: Schema, description: str = "", *, required: bool = False) -> Schema:
    parameter: Schema = {"name": name, "in": "query", "required": required, "schema": schema}
    if description:
        parameter["description"] = description
    return parameter


def path(name: str, schema: Schema, description: str = "") -> Schema:
    parameter: Schema = {"name": name, "in": "path", "required": True, "schema": schema}
    if description:
        parameter["description"] = description
    return parameter


def page(default: int, maximum: int) -> list[Schema]:
    return [
        query(
            "limit",
            {"type": "integer", "minimum": 1, "maximum": MAX_QUERY_INTEGER, "default": default},
            f"Page size; above {maximum} it is clamped to {maximum} (and echoed so).",
        ),
        query("offset", {"type": "integer", "minimum": 0, "maximum": MAX_QUERY_INTEGER, "default": 0}),
    ]


IDEMPOTENCY_KEY: Schema = {
    "name": "Idempotency-Key",
    "in": "header",
    "required": False,
    "description": "The same key and body within 24 h replays the first response (`Idempotent-Replayed: true`).",
    "schema": {"type": "string", "minLength": 1, "maxLength": 255, "pattern": r"^[\x20-\x7e]+$"},
}


def operation(
    operation_id: str,
    summary: str,
    responses: dict[str, Schema],
    errors: tuple[int, ...],
    *,
    tags: tuple[str, ...],
    parameters: list[Schema] | None = None,
    request_body: Schema | None = None,
    security: list[dict[str, list[str]]] | None = BASIC,
) -> Schema:
    """One operation. Any may answer 400 (a NUL in the URL is refused before routing), and 408, 431 and
    503 (the HTTP edge's limits); every authenticated one 401 and 429 (the failed-login throttle)."""
    codes = {400, *EDGE_STATUSES, *errors} | ({401, 429} if security == BASIC else set())
    spec: Schema = {"operationId": operation_id, "summary": summary, "tags": list(tags)}
    if parameters:
        spec["parameters"] = parameters
    if request_body is not None:
        spec["requestBody"] = request_body
    all_responses = dict(responses)
    for status in sorted(codes):
        all_responses[str(status)] = {"$ref": f"#/components/responses/Error{status}"}
    all_responses["5XX"] = {"$ref": "#/components/responses/ServerError"}
    spec["responses"] = all_responses
    spec["security"] = security if security is not None else []
    return spec
