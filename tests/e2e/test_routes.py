"""Routes, a number's primary and failover routes, and per-number callbacks against a real server."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import pytest

from telroute.numbers.inventory import InventoryRow
from tests.e2e.conftest import assert_error, detail_document, query_of, route_zero

Buy = Callable[[httpx.Client, str], str]
PREFIX = "1207"


def _route_body(route_type: str, value: str, alias: str, **extra: str) -> dict[str, Any]:
    attributes = {"route_type": route_type, "value": value, "alias": alias, **extra}
    return {"data": {"type": "route", "attributes": attributes}}


def _create(client: httpx.Client, route_type: str, value: str, alias: str) -> dict[str, Any]:
    response = client.post("/v2/routes", json=_route_body(route_type, value, alias, edge_strategy="1"))
    assert response.status_code == 201, response.text
    resource: dict[str, Any] = response.json()["data"]
    return resource


def test_create_route_is_201_with_the_route_document(api: httpx.Client, base: str) -> None:
    response = api.post("/v2/routes", json=_route_body("number", "12065551212", "PSTNroute1", edge_strategy="1"))
    assert response.status_code == 201
    document = response.json()
    route_id = document["data"]["id"]
    assert route_id.isdigit() and route_id != "0"
    resource = {
        "type": "route",
        "id": route_id,
        "attributes": {"route_type": "number", "alias": "PSTNroute1", "value": "12065551212"},
        "links": {"self": f"{base}/v2/routes/{route_id}"},
    }
    assert document == {"data": resource, "links": {"self": f"{base}/v2/routes/{route_id}"}}
    assert api.get(f"/v2/routes/{route_id}").json() == document


def test_route_zero_is_the_built_in_sip_reg_route(api: httpx.Client, base: str) -> None:
    assert api.get("/v2/routes/0").json() == {"data": route_zero(base), "links": {"self": f"{base}/v2/routes/0"}}


def test_list_routes_filters_by_type_and_pages(api: httpx.Client, base: str) -> None:
    host = _create(api, "host", "sip.example.com", "host1")
    uri = _create(api, "uri", "sip:desk@example.com", "uri1")
    second_host = _create(api, "host", "sip2.example.com", "host2")
    everything = api.get("/v2/routes").json()
    listed = [route_zero(base), host, uri, second_host]
    assert everything == {"data": listed, "links": {"self": f"{base}/v2/routes?limit=10&offset=0"}}
    hosts = api.get("/v2/routes", params={"route_type": "host", "limit": 1}).json()
    assert hosts["data"] == [host]
    assert query_of(hosts["links"]["self"]) == "route_type=host&limit=1&offset=0"
    assert query_of(hosts["links"]["next"]) == "route_type=host&limit=1&offset=1"
    last = api.get(hosts["links"]["next"]).json()
    assert last["data"] == [second_host] and "next" not in last["links"]


def test_routes_of_another_account_are_invisible(api: httpx.Client, stranger: httpx.Client) -> None:
    route = _create(api, "host", "sip.example.com", "mine")
    assert_error(stranger.get(f"/v2/routes/{route['id']}"), 404)
    assert [item["id"] for item in stranger.get("/v2/routes").json()["data"]] == ["0"]


def test_route_list_starts_with_route_zero_as_documented(api: httpx.Client, base: str) -> None:
    # The documented example: list_inbound_routes(limit=2) -> route 0 (sip-reg), then the account's first route.
    created = _create(api, "number", "12065551212", "PSTNroute1")
    _create(api, "host", "sip.example.com", "host1")
    document = api.get("/v2/routes", params={"limit": 2}).json()
    assert document["data"] == [route_zero(base), created]
    assert document["links"] == {
        "self": f"{base}/v2/routes?limit=2&offset=0",
        "next": f"{base}/v2/routes?limit=2&offset=2",
    }
    assert api.get("/v2/routes", params={"route_type": "sip-reg"}).json()["data"] == [route_zero(base)]
    assert api.get("/v2/routes", params={"route_type": "number"}).json()["data"] == [created]


@pytest.mark.parametrize("route_id", ["999999999", "abc", "-1"])
def test_unknown_route_is_404(api: httpx.Client, route_id: str) -> None:
    assert_error(api.get(f"/v2/routes/{route_id}"), 404)


@pytest.mark.parametrize(
    ("body", "status"),
    [({"data": {"type": "route", "attributes": {"value": "x"}}}, 400),
     ({"data": {"type": "route", "attributes": {"route_type": "carrier-pigeon", "value": "x"}}}, 422),
     ({"data": {"type": "route", "attributes": {"route_type": "host"}}}, 422),
     ({"route_type": 5, "value": "x"}, 400)],
)  # fmt: skip
def test_invalid_routes_are_refused(api: httpx.Client, body: dict[str, Any], status: int, base: str) -> None:
    assert_error(api.post("/v2/routes", json=body), status)
    assert api.get("/v2/routes").json()["data"] == [route_zero(base)]


def test_edge_strategies(api: httpx.Client) -> None:
    document = api.get("/v2/routes/edge_strategies").json()
    assert [item["id"] for item in document["data"]] == ["1", "2", "3", "4"]
    for item in document["data"]:
        assert set(item) == {"type", "id", "attributes"} and item["type"] == "edge_strategy"


def test_primary_and_failover_routes_show_in_the_number_detail(
    api: httpx.Client, base: str, buy: Buy, seeded: dict[str, InventoryRow]
) -> None:
    number = buy(api, PREFIX)
    primary = _create(api, "host", "sip.example.com", "primary")
    failover = _create(api, "number", "12065551212", "failover")
    for kind, route in (("primary_route", primary), ("failover_route", failover)):
        body = {"data": {"type": "route", "id": route["id"]}}
        response = api.patch(f"/v2/numbers/{number}/relationships/{kind}", json=body)
        assert response.status_code == 204 and response.content == b""
    expected = detail_document(seeded[number], base, primary=primary, failover=failover)
    assert api.get(f"/v2/numbers/{number}").json() == expected
    back = api.patch(f"/v2/numbers/{number}/relationships/primary_route", json={"data": {"type": "route", "id": 0}})
    assert back.status_code == 204
    expected = detail_document(seeded[number], base, primary=route_zero(base), failover=failover)
    assert api.get(f"/v2/numbers/{number}").json() == expected


def test_another_accounts_route_cannot_be_used(api: httpx.Client, stranger: httpx.Client, buy: Buy) -> None:
    number = buy(api, PREFIX)
    theirs = _create(stranger, "host", "sip.example.com", "theirs")
    body = {"data": {"type": "route", "id": theirs["id"]}}
    assert_error(api.patch(f"/v2/numbers/{number}/relationships/primary_route", json=body), 404)
    assert api.get(f"/v2/numbers/{number}").json()["data"]["relationships"]["primary_route"]["data"]["id"] == "0"


@pytest.mark.parametrize(
    ("body", "pointer"),
    [({"data": {"type": "number", "id": "0"}}, "/data/type"), ({"data": {"type": "route", "id": "x"}}, "/data/id"),
     ({"data": {"type": "route"}}, "/data"), ({"type": "route", "id": "0"}, "")],
)  # fmt: skip
def test_bad_relationship_bodies_are_400(api: httpx.Client, buy: Buy, body: dict[str, Any], pointer: str) -> None:
    number = buy(api, PREFIX)
    response = api.patch(f"/v2/numbers/{number}/relationships/primary_route", json=body)
    assert_error(response, 400, pointer=pointer)


def test_route_relationships_take_patch_only(api: httpx.Client, buy: Buy) -> None:
    number = buy(api, PREFIX)
    for method in ("POST", "GET", "PUT"):
        response = api.request(method, f"/v2/numbers/{number}/relationships/primary_route", json={})
        assert_error(response, 405)
        assert response.headers["allow"] == "PATCH"
    assert_error(api.patch(f"/v2/numbers/{number}/relationships/backup_route", json={}), 404)


CALLBACK_TYPES = ["sms_callback", "mms_callback", "sms_dlr_callback", "mms_dlr_callback", "dlr_callback"]


@pytest.mark.parametrize("callback_type", CALLBACK_TYPES)
@pytest.mark.parametrize("shape", ["flat", "jsonapi"])
def test_per_number_callbacks_are_204(api: httpx.Client, buy: Buy, callback_type: str, shape: str) -> None:
    number = buy(api, PREFIX)
    url = "https://customer.example/hooks?kind=sms"
    body = {"callback_url": url} if shape == "flat" else {"data": {"attributes": {"callback_url": url}}}
    response = api.post(f"/v2/numbers/{number}/relationships/{callback_type}", json=body)
    assert response.status_code == 204 and response.content == b""


@pytest.mark.parametrize("url", ["ftp://example.com/x", "not a url", "https://", "/relative", 42])
def test_per_number_callback_with_a_bad_url_is_400(api: httpx.Client, buy: Buy, url: object) -> None:
    number = buy(api, PREFIX)
    response = api.post(f"/v2/numbers/{number}/relationships/sms_callback", json={"callback_url": url})
    assert_error(response, 400, pointer="/callback_url")


def test_unknown_callback_type_is_404(api: httpx.Client, buy: Buy) -> None:
    number = buy(api, PREFIX)
    response = api.post(f"/v2/numbers/{number}/relationships/fax_callback", json={"callback_url": "https://a.example"})
    assert_error(response, 404)
