"""Pieces of OpenAPI operations for feature packages' `contract.py` modules, which cannot import
`telroute.openapi` (it imports them). The error responses they name are defined by `telroute.openapi`."""

from __future__ import annotations

from typing import Any

Schema = dict[str, Any]
JSONAPI = "application/vnd.api+json"
_EDGE = (400, 408, 431, 503)


def ref(name: str) -> Schema:
    return {"$ref": f"#/components/schemas/{name}"}


def document(schema: str, description: str) -> Schema:
    return {"description": description, "content": {JSONAPI: {"schema": ref(schema)}}}


def no_content(description: str) -> Schema:
    return {"description": description + " No body."}


def body(schema: str, media_types: tuple[str, ...], description: str) -> Schema:
    content = {media_type: {"schema": ref(schema)} for media_type in media_types}
    return {"required": True, "content": content, "description": description}


def path(name: str, schema: Schema, description: str = "") -> Schema:
    return {"name": name, "in": "path", "required": True, "schema": schema, "description": description}


def query(name: str, schema: Schema, description: str) -> Schema:
    return {"name": name, "in": "query", "required": False, "schema": schema, "description": description}


def page(maximum: int) -> list[Schema]:
    return [
        query("limit", {"type": "integer", "minimum": 1, "default": 10}, f"Page size; above {maximum}: {maximum}."),
        query("offset", {"type": "integer", "minimum": 0, "default": 0}, "Items to skip."),
    ]


def operation(
    operation_id: str,
    summary: str,
    tag: str,
    responses: dict[str, Schema],
    errors: tuple[int, ...],
    *,
    parameters: list[Schema] | None = None,
    request_body: Schema | None = None,
) -> Schema:
    """An operation under Basic auth (so 401 and 429), with the HTTP edge's errors (and 413 if it reads a body)."""
    all_responses = dict(responses)
    for status in sorted({*_EDGE, 401, 429, *errors, *((413,) if request_body is not None else ())}):
        all_responses[str(status)] = {"$ref": f"#/components/responses/Error{status}"}
    all_responses["5XX"] = {"$ref": "#/components/responses/ServerError"}
    result: Schema = {"operationId": operation_id, "summary": summary, "tags": [tag], "responses": all_responses}
    if parameters:
        result["parameters"] = parameters
    if request_body is not None:
        result["requestBody"] = request_body
    result["security"] = [{"basic": []}]
    return result


def resource(kind: str, attributes: Schema) -> Schema:
    return {
        "type": "object",
        "required": ["type", "id", "attributes", "links"],
        "properties": {
            "type": {"const": kind},
            "id": {"type": "string", "pattern": r"^\d+$"},
            "attributes": attributes,
            "links": {"type": "object", "properties": {"self": {"type": "string"}}},
        },
    }


def single(name: str) -> Schema:
    return {"type": "object", "required": ["data"], "properties": {"data": ref(name)}}


def listing(name: str) -> Schema:
    links = {"type": "object", "required": ["self"], "additionalProperties": {"type": "string"}}
    return {
        "type": "object",
        "required": ["data", "links"],
        "properties": {"data": {"type": "array", "items": ref(name)}, "links": links},
    }


def nullable(schema: Schema) -> Schema:
    return {"anyOf": [schema, {"type": "null"}]}
