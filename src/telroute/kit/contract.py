"""Pieces for a feature's own OpenAPI module (`<package>/contract.py`): operations that refer to the
shared components of `telroute.openapi` (error responses, the `basic` security scheme) by name."""

from __future__ import annotations

from typing import Any

Schema = dict[str, Any]
JSONAPI = "application/vnd.api+json"
JSON = "application/json"
# Every authenticated operation may answer these besides its own (see `telroute.openapi._operation`).
_ALWAYS = (400, 401, 408, 429, 431, 503)


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


def document(schema: str, description: str) -> Schema:
    return {"description": description, "content": {JSONAPI: {"schema": ref(schema)}}}


def body(schema: str, media_types: tuple[str, ...] = (JSON, JSONAPI)) -> Schema:
    return {"required": True, "content": {media_type: {"schema": ref(schema)} for media_type in media_types}}


def operation(
    operation_id: str,
    summary: str,
    responses: dict[str, Schema],
    errors: tuple[int, ...],
    *,
    tag: str,
    parameters: list[Schema] | None = None,
    request_body: Schema | None = None,
) -> Schema:
    """One operation behind Basic auth, with the shared error responses of `errors` and the usual ones."""
    result: Schema = {"operationId": operation_id, "summary": summary, "tags": [tag]}
    if parameters:
        result["parameters"] = parameters
    if request_body is not None:
        result["requestBody"] = request_body
    every = dict(responses)
    for status in sorted({*_ALWAYS, *errors}):
        every[str(status)] = {"$ref": f"#/components/responses/Error{status}"}
    every["5XX"] = {"$ref": "#/components/responses/ServerError"}
    result["responses"] = every
    result["security"] = [{"basic": []}]
    return result


def path_parameter(name: str, schema: Schema, description: str) -> Schema:
    return {"name": name, "in": "path", "required": True, "schema": schema, "description": description}


def query_parameter(name: str, schema: Schema, description: str = "", *, required: bool = False) -> Schema:
    parameter: Schema = {"name": name, "in": "query", "required": required, "schema": schema}
    if description:
        parameter["description"] = description
    return parameter
