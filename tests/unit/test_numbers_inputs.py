"""The request bodies of numbers, routes and callbacks carry their constraints in their Structs (and so in
the OpenAPI document), yet refuse as they always did: a wrong type first, in the order sent, then the
ordered rules, with the same status and pointer."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from telroute.accounts.inputs import callback_body
from telroute.errors import TelrouteError
from telroute.kit.http import attributes_of
from telroute.numbers import inputs

WRAPPED = "/data/attributes"


def _refusal(read: Callable[[], object]) -> tuple[int, str | None]:
    with pytest.raises(TelrouteError) as caught:
        read()
    return caught.value.status, caught.value.pointer


def _attributes(read: Callable[[Any, str], object], body: dict[str, Any]) -> Callable[[], object]:
    return lambda: read(*attributes_of(body))


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ({"route_type": "pigeon", "value": "x"}, (422, f"{WRAPPED}/route_type")),
        ({"route_type": "pigeon", "alias": 5}, (400, "/alias")),
        ({"alias": 5, "route_type": "pigeon"}, (400, "/alias")),
        ({"route_type": "pigeon"}, (422, f"{WRAPPED}/route_type")),
        ({"route_type": "host"}, (422, f"{WRAPPED}/value")),
        ({"route_type": "host", "value": None}, (422, f"{WRAPPED}/value")),
        ({"route_type": "host", "value": ""}, (422, f"{WRAPPED}/value")),
        ({"route_type": 5, "value": "x"}, (400, "/route_type")),
        ({"value": "x"}, (400, "")),
        ({"data": {"attributes": {"route_type": "host", "value": 5}}}, (400, f"{WRAPPED}/value")),
    ],
)
def test_a_new_route_is_refused_as_before(body: dict[str, Any], expected: tuple[int, str]) -> None:
    assert _refusal(_attributes(inputs.new_route, body)) == expected


def test_a_new_route_reads_what_it_always_read() -> None:
    body = {"data": {"type": "route", "attributes": {"route_type": "uri", "value": "sip:a@b", "edge_strategy": 2}}}
    assert inputs.new_route(*attributes_of(body)) == inputs.NewRoute("uri", "sip:a@b", None, 2)


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ({"alias": "x" * 256}, (400, "/alias")),
        ({"data": {"attributes": {"alias": "x" * 256}}}, (400, "/alias")),
        ({"alias": "x" * 256, "cnam_lookups_enabled": "maybe"}, (400, "/cnam_lookups_enabled")),
        ({"data": {"attributes": {"alias": 5}}}, (400, f"{WRAPPED}/alias")),
    ],
)
def test_a_number_patch_is_refused_as_before(body: dict[str, Any], expected: tuple[int, str]) -> None:
    assert _refusal(_attributes(inputs.number_patch, body)) == expected


def test_a_number_patch_still_reads_booleans_laxly() -> None:
    patch = inputs.number_patch({"alias": "x" * 255, "cnam_lookups_enabled": "false"}, "")
    assert (patch.alias, patch.cnam_lookups_enabled) == ("x" * 255, False)


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        ({"id": "abc", "type": "number"}, (400, "/data/type")),
        ({"id": [], "type": "number"}, (400, "/data/id")),
        ({"type": "route", "id": "123\n"}, (400, "/data/id")),
        ({"type": "route", "id": "\u0661"}, (400, "/data/id")),
        ({"type": "route", "id": "9" * 19}, (400, "/data/id")),
        ({"type": "route", "id": 10**18}, (400, "/data/id")),
        ({"type": "route", "id": -1}, (400, "/data/id")),
        ({"type": "route"}, (400, "/data")),
    ],
)
def test_a_route_relationship_is_refused_as_before(data: dict[str, Any], expected: tuple[int, str]) -> None:
    assert _refusal(lambda: inputs.route_id({"data": data})) == expected


@pytest.mark.parametrize("identifier", ["12", 12, 12.0])
def test_a_route_relationship_names_its_route(identifier: object) -> None:
    assert inputs.route_id({"data": {"type": "route", "id": identifier}}) == 12


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ({"callback_url": "http://x/" + "a" * 2048}, (400, "/callback_url")),
        ({"data": {"attributes": {"callback_url": "http://x/" + "a" * 2048}}}, (400, "/callback_url")),
        ({"data": {"attributes": {"callback_url": 5}}}, (400, f"{WRAPPED}/callback_url")),
        ({}, (400, "")),
    ],
)
def test_a_callback_body_is_refused_as_before(body: dict[str, Any], expected: tuple[int, str]) -> None:
    assert _refusal(_attributes(callback_body, body)) == expected
