"""`GET /openapi.json`: a valid OpenAPI 3.1 document that describes every route the app serves.

`Contract` (used by the other test_openapi*, test_hostile* and test_isolation* modules) validates real
responses against it: the status code must be documented for the operation, the Content-Type must be
the documented one, and the body must match the documented schema (JSON Schema 2020-12, formats
checked).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import httpx
import jsonschema
import pytest
from openapi_spec_validator import validate as validate_openapi
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012
from starlette.routing import Route

from telroute import openapi
from telroute.app import create_app
from telroute.bootstrap import Deps
from telroute.config import Settings
from telroute.console import api as console_api
from telroute.kit.token_digest import TokenDigest
from tests.support import loopback
from tests.support.server import Server

DOCUMENT_URI = "urn:telroute:openapi"
_METHODS = ("get", "put", "post", "delete", "patch", "head", "options")


def _pointer(*parts: str) -> str:
    return "/".join(part.replace("~", "~0").replace("/", "~1") for part in parts)


@dataclass(frozen=True)
class Operation:
    template: str
    method: str
    spec: dict[str, Any]


@dataclass
class Contract:
    """The document, compiled: find the operation of a request, validate a response against it."""

    document: dict[str, Any]
    seen: set[tuple[str, str, int]] = field(default_factory=set)
    checked: int = 0

    def __post_init__(self) -> None:
        resource: Resource[Any] = DRAFT202012.create_resource(self.document)
        self._registry: Registry[Any] = Registry().with_resource(DOCUMENT_URI, resource)
        # Concrete paths win over templated ones (OpenAPI's rule), so try those with fewer parameters first.
        templates = sorted(self.document["paths"], key=lambda path: (path.count("{"), path))
        self._paths = [(re.compile("^" + re.sub(r"\{[^}]+\}", "[^/]+", path) + "$"), path) for path in templates]

    def operations(self) -> Iterator[Operation]:
        for template, item in self.document["paths"].items():
            for method in _METHODS:
                if method in item:
                    yield Operation(template, method, item[method])

    def operation(self, method: str, path: str) -> Operation | None:
        for pattern, template in self._paths:
            if pattern.match(path):
                spec = self.document["paths"][template].get(method.lower())
                if spec is not None:
                    return Operation(template, method.lower(), spec)
        return None

    def _resolve(self, node: dict[str, Any]) -> dict[str, Any]:
        while "$ref" in node:
            parts = node["$ref"].removeprefix("#/").split("/")
            target: Any = self.document
            for part in parts:
                target = target[part.replace("~1", "/").replace("~0", "~")]
            node = target
        return node

    def _response_key(self, operation: Operation, status: int) -> str | None:
        responses = operation.spec["responses"]
        for key in (str(status), f"{status // 100}XX", "default"):
            if key in responses:
                return key
        return None

    def check(self, response: httpx.Response) -> None:
        """Raise AssertionError unless `response` is what the document says its operation answers."""
        request = response.request
        path = urlsplit(str(request.url)).path
        operation = self.operation(request.method if request.method != "HEAD" else "GET", path)
        if operation is None:
            # Paths and methods outside the document must be 404 or 405 error documents.
            assert response.status_code in (404, 405), (
                f"{request.method} {path}: undocumented, got {response.status_code}"
            )
            self._validate_error(response)
            return
        key = self._response_key(operation, response.status_code)
        where = f"{request.method} {operation.template}"
        assert key is not None, f"{where}: status {response.status_code} is not documented\n{response.text[:500]}"
        self.seen.add((operation.template, operation.method, response.status_code))
        self.checked += 1
        spec = self._resolve(operation.spec["responses"][key])
        content = spec.get("content")
        if not content:
            assert response.content == b"", f"{request.method} {path}: {response.status_code} must have no body"
            return
        if request.method == "HEAD":
            return
        media_type = response.headers.get("content-type", "").split(";")[0].strip()
        if "*/*" in content:
            return
        assert media_type in content, f"{request.method} {path}: Content-Type {media_type!r} is not {list(content)}"
        if media_type == "text/plain":
            return
        pointer = _pointer("paths", operation.template, operation.method, "responses", key)
        if "$ref" in operation.spec["responses"][key]:
            pointer = operation.spec["responses"][key]["$ref"].removeprefix("#/")
        schema_ref = f"{DOCUMENT_URI}#/{pointer}/{_pointer('content', media_type, 'schema')}"
        self._validate(response, schema_ref)

    def _validate_error(self, response: httpx.Response) -> None:
        assert response.headers.get("content-type") == openapi.JSONAPI
        self._validate(response, f"{DOCUMENT_URI}#/components/schemas/ErrorDocument")
        assert response.json()["errors"][0]["status"] == response.status_code

    def _validate(self, response: httpx.Response, schema_ref: str) -> None:
        validator = jsonschema.Draft202012Validator(
            {"$ref": schema_ref}, registry=self._registry, format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER
        )
        errors = sorted(validator.iter_errors(response.json()), key=lambda error: list(error.absolute_path))
        if errors:
            details = "\n".join(f"  at {list(error.absolute_path)}: {error.message[:300]}" for error in errors[:5])
            raise AssertionError(
                f"{response.request.method} {response.request.url} -> {response.status_code} breaks the document:\n"
                f"{details}\nbody: {response.text[:1000]}"
            )

    def client(self, server: Server, keys: tuple[str, str] | None = None, **kwargs: Any) -> httpx.Client:
        """A client whose every response is checked against the document."""

        def hook(response: httpx.Response) -> None:
            response.read()
            self.check(response)

        return loopback.client(base_url=server.url, auth=keys, timeout=30.0, event_hooks={"response": [hook]}, **kwargs)


def test_the_document_is_served_without_authentication(server: Server) -> None:
    response = loopback.get(f"{server.url}/openapi.json", timeout=10)
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    assert response.json() == openapi.document()


def test_the_document_is_valid_openapi_3_1() -> None:
    document = openapi.document()
    assert document["openapi"] == "3.1.0"
    validate_openapi(document)
    for name, schema in document["components"]["schemas"].items():
        try:
            jsonschema.Draft202012Validator.check_schema(schema)
        except jsonschema.SchemaError as exc:
            raise AssertionError(f"components.schemas.{name}: {exc.message}") from exc


def _app_routes() -> set[tuple[str, str]]:
    """(path template with `{}` for parameters, method) of every route the app serves."""
    deps = Deps(settings=Settings(admin_token=TokenDigest.of("x")), db=None, clock=lambda: 0, http=None)  # type: ignore[arg-type]
    found = set()
    for route in create_app(deps).routes:
        assert isinstance(route, Route), route
        if route.path.startswith(console_api.PREFIX):
            continue  # the console's own endpoints are private to its page: see telroute/console/api.py
        template = re.sub(r"\{[^}]+\}", "{}", route.path)
        for method in route.methods or ():
            if method != "HEAD":
                found.add((template, method.lower()))
    return found


def _expand(template: str) -> set[str]:
    """`/v2/numbers/{}/relationships/{}_route` serves `primary_route` and `failover_route`."""
    if template.endswith("{}_route"):
        return {template.replace("{}_route", f"{kind}_route") for kind in ("primary", "failover")}
    return {template}


def test_every_route_of_the_app_is_documented_and_nothing_else(contract: Contract) -> None:
    served = {(path, method) for template, method in _app_routes() for path in _expand(template)}
    documented = {(re.sub(r"\{[^}]+\}", "{}", op.template), op.method) for op in contract.operations()}
    assert served - documented == set(), "served but not documented"
    assert documented - served == set(), "documented but not served"


_ADMIN_PATHS = (
    "/sandbox/inbound",
    "/sandbox/accounts",
    "/sandbox/accounts/{access_key}",
    "/sandbox/clock",
    "/sandbox/clock/advance",
)


def test_authenticated_operations_document_401_and_429_and_the_others_need_no_auth(contract: Contract) -> None:
    for op in contract.operations():
        responses = op.spec["responses"]
        assert "5XX" in responses, op
        if op.spec["security"] == [{"basic": []}]:
            assert {"401", "429"} <= set(responses), op
        elif op.template in _ADMIN_PATHS:
            assert op.spec["security"] == [{"adminToken": []}]
        else:
            assert op.template in ("/healthz", "/readyz", "/metrics", "/openapi.json"), op
            assert op.spec["security"] == [] and "401" not in responses


@pytest.mark.parametrize(
    ("schema", "good", "bad"),
    [
        ("PhoneNumber", "12065551234", ["+12065551234", "2065551234", "12065551234 ", "11065551234"]),
        ("MessageId", "mdr2-" + "a" * 32, ["mdr2-" + "A" * 32, "mdr2-" + "a" * 31, "mdr-" + "a" * 32]),
        ("Timestamp", "2017-12-22T01:52:39.39Z", ["2017-12-22T01:52:39.391Z", "2017-12-22T01:52:39Z", "2017-12-22"]),
    ],
)
def test_the_scalar_patterns_are_exact(contract: Contract, schema: str, good: str, bad: list[str]) -> None:
    validator = jsonschema.Draft202012Validator(contract.document["components"]["schemas"][schema])
    assert validator.is_valid(good)
    for value in bad:
        assert not validator.is_valid(value), value


def test_the_error_schema_ties_title_to_status(contract: Contract) -> None:
    validator = jsonschema.Draft202012Validator(
        {"$ref": f"{DOCUMENT_URI}#/components/schemas/ErrorDocument"}, registry=contract._registry
    )
    error = {"id": "7fcfd1cd-486b-4159-8484-b710bd4bbab4", "status": 400, "title": "Client Error", "detail": "x"}
    assert validator.is_valid({"errors": [error]})
    assert not validator.is_valid({"errors": [{**error, "title": "Server Error"}]})
    assert not validator.is_valid({"errors": [{**error, "status": "400"}]})
    assert not validator.is_valid({"errors": [{**error, "stack": "..."}]})
    assert not validator.is_valid({"errors": [{**error, "id": "not-a-uuid"}]})
    assert not validator.is_valid({"errors": [error], "data": None})
