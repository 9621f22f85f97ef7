"""Every request body of the document is generated from the input Struct its route decodes
(`requests()` of each contributor, `kit.contract.request_components`): none is written by hand, and
each accepts what its Struct accepts and refuses a wrong type."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import jsonschema
import pytest
from referencing import Registry
from referencing.jsonschema import DRAFT202012

from telroute import openapi
from telroute.kit.contract import RequestBody, request_components

URI = "urn:telroute:openapi"
PREFIX = "#/components/schemas/"
SEND = {"to": "12065551234", "from": "13125550123", "body": "hi"}
SEND_V22 = {**SEND, "to": "+12065551234", "from": "+13125550123"}
ADDRESS = {
    "label": "Office", "first_name": "Ada", "last_name": "Lovelace", "street_name": "Main St", "street_number": "1",
    "city": "Seattle", "state": "WA", "country": "US", "zip": "98101",
}  # fmt: skip
# name -> (a body the route accepts, the same body with one field of the wrong type)
EXAMPLES: dict[str, tuple[dict[str, Any], dict[str, Any]]] = {
    "PurchaseRequest": ({"cnam_lookups_enabled": False}, {"messaging_enabled": "maybe"}),
    "NumberPatchRequest": ({"alias": "front desk"}, {"alias": 5}),
    "RouteRequest": ({"route_type": "host", "value": "sip.example.com"}, {"route_type": "host", "value": 5}),
    "RouteRelationshipRequest": ({"data": {"type": "route", "id": "12"}}, {"data": {"type": "route", "id": 1.5}}),
    "CallbackRequest": ({"callback_url": "https://example.com/cb"}, {"callback_url": 5}),
    "CnamRequest": ({"value": "ACME"}, {"value": 5}),
    "PortabilityRequest": ({"numbers": ["+12065551234", 13125550123]}, {"numbers": 5}),
    "SendMessageRequest": (SEND, {**SEND, "body": 5}),
    "InboundRequest": (SEND, {**SEND, "media_urls": "http://example.com/a.png"}),
    "SendMessageRequestV22": (SEND_V22, {**SEND_V22, "to": 12065551234}),
    "E911Request": (
        {"data": {"type": "e911", "attributes": ADDRESS}},
        {"data": {"attributes": {**ADDRESS, "zip": []}}},
    ),
    "SandboxAccountRequest": ({"name": "qa", "numbers": 2}, {"name": 5}),
    "SandboxFaultRequest": ({"kind": "delivery", "outcome": "undelivered"}, {"kind": "delivery", "outcome": 5}),
    "SandboxClockAdvance": ({"seconds": 60}, {"seconds": "60"}),
}


def _declared() -> dict[str, RequestBody]:
    declared: dict[str, RequestBody] = {}
    for contributor in openapi.CONTRIBUTORS:
        for name, request in contributor.requests().items():
            assert name not in declared, f"{name} is declared twice"
            declared[name] = request
    return declared


def _request_schemas() -> Iterator[tuple[str, dict[str, Any]]]:
    for template, item in openapi.document()["paths"].items():
        for method, operation in item.items():
            if isinstance(operation, dict) and "requestBody" in operation:
                for media_type, content in operation["requestBody"]["content"].items():
                    yield f"{method.upper()} {template} {media_type}", content["schema"]


def _validator(name: str) -> jsonschema.Draft202012Validator:
    registry: Registry[Any] = Registry().with_resource(URI, DRAFT202012.create_resource(openapi.document()))
    return jsonschema.Draft202012Validator({"$ref": f"{URI}{PREFIX}{name}"}, registry=registry)


def test_every_request_body_refers_to_a_component_generated_from_a_struct() -> None:
    declared = _declared()
    components = openapi.document()["components"]["schemas"]
    referenced = set()
    for where, schema in _request_schemas():
        assert set(schema) == {"$ref"} and schema["$ref"].startswith(PREFIX), f"{where}: not a component: {schema}"
        name = schema["$ref"].removeprefix(PREFIX)
        assert name in declared, f"{where}: {name} is not generated from a Struct (declare it in requests())"
        referenced.add(name)
    assert referenced == set(declared), "declared but never a request body"
    for name, schema in request_components(declared).items():
        assert components[name] == schema, f"{name} in the document is not the one generated from its Struct"


def test_every_request_has_examples() -> None:
    assert set(EXAMPLES) == set(_declared())


@pytest.mark.parametrize("name", sorted(EXAMPLES))
def test_a_request_schema_accepts_a_valid_body_and_refuses_a_wrong_type(name: str) -> None:
    request, (valid, wrong) = _declared()[name], EXAMPLES[name]
    validator = _validator(name)
    bodies = [(valid, wrong)]
    if request.attributes:
        bodies.append(({"data": {"attributes": valid}}, {"data": {"attributes": wrong}}))
    for good, bad in bodies:
        assert list(validator.iter_errors(good)) == [], good
        assert not validator.is_valid(bad), bad


@pytest.mark.parametrize("name", sorted(EXAMPLES))
def test_a_request_schema_allows_other_keys_unless_its_struct_refuses_them(name: str) -> None:
    request, (valid, _) = _declared()[name], EXAMPLES[name]
    refuses = request.struct.__struct_config__.forbid_unknown_fields
    assert _validator(name).is_valid({**valid, "extra": 1}) is not refuses
