"""Buying, listing, updating and releasing numbers against a real server: exact JSON of the contract."""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from telroute.numbers.inventory import InventoryRow
from tests.e2e.conftest import assert_error, available_item, detail_document, make_account, owned_item, query_of
from tests.support.server import Server

Buy = Callable[[httpx.Client, str], str]


def _first_available(client: httpx.Client, prefix: str) -> str:
    found = client.get("/v2/numbers/available", params={"starts_with": prefix, "limit": 1}).json()["data"]
    assert found, f"nothing left under {prefix}"
    number: str = found[0]["id"]
    return number


# --- purchase ---------------------------------------------------------------------------------------------


def test_purchase_is_201_with_the_detail_document(
    api: httpx.Client, base: str, seeded: dict[str, InventoryRow]
) -> None:
    number = _first_available(api, "1808")
    response = api.post(f"/v2/numbers/{number}")
    assert response.status_code == 201
    assert response.headers["content-type"] == "application/vnd.api+json"
    assert response.json() == detail_document(seeded[number], base)
    assert api.get(f"/v2/numbers/{number}").json() == response.json()


@pytest.mark.parametrize(
    ("body", "headers"),
    [
        (b'{"cnam_lookups_enabled": false}', {"content-type": "application/json"}),
        (b'{"data": {"attributes": {"cnam_lookups_enabled": false}}}', {"content-type": "application/vnd.api+json"}),
        (b'{"cnam_lookups_enabled": false, "messaging_enabled": true}', {}),
        (b'{"data": {"type": "number", "attributes": {"cnam_lookups_enabled": "false"}}}',
         {"content-type": "application/json; charset=utf-8"}),
    ],
)  # fmt: skip
def test_purchase_takes_flat_and_jsonapi_bodies_with_any_content_type(
    api: httpx.Client, base: str, seeded: dict[str, InventoryRow], body: bytes, headers: dict[str, str]
) -> None:
    number = _first_available(api, "1808")
    response = api.post(f"/v2/numbers/{number}", content=body, headers=headers)
    assert response.status_code == 201, response.text
    assert response.json() == detail_document(seeded[number], base, cnam=False)


def test_purchase_without_body_or_content_type(api: httpx.Client, base: str, seeded: dict[str, InventoryRow]) -> None:
    number = _first_available(api, "1808")
    request = api.build_request("POST", f"/v2/numbers/{number}")
    assert "content-type" not in request.headers
    response = api.send(request)
    assert response.status_code == 201
    assert response.json() == detail_document(seeded[number], base)


def test_purchase_accepts_a_plus_prefixed_id(api: httpx.Client, base: str, seeded: dict[str, InventoryRow]) -> None:
    number = _first_available(api, "1808")
    response = api.post(f"/v2/numbers/%2B{number}")
    assert response.status_code == 201
    assert response.json() == detail_document(seeded[number], base)
    assert api.get(f"/v2/numbers/+{number}").json()["data"]["id"] == number


def test_purchase_of_a_number_not_in_the_inventory_is_404(api: httpx.Client) -> None:
    assert_error(api.post("/v2/numbers/15992345678"), 404)


def test_purchase_of_an_owned_number_is_404_for_everyone(api: httpx.Client, stranger: httpx.Client, buy: Buy) -> None:
    number = buy(api, "1808")
    assert_error(api.post(f"/v2/numbers/{number}"), 404)
    assert_error(stranger.post(f"/v2/numbers/{number}"), 404)
    assert [item["id"] for item in api.get("/v2/numbers").json()["data"]] == [number]


@pytest.mark.parametrize("number", ["12345", "1206555123x", "02065551234", "112065551234", "1206%2055512"])
def test_malformed_ids_are_400(api: httpx.Client, number: str) -> None:
    for method in ("GET", "POST", "DELETE"):
        assert_error(api.request(method, f"/v2/numbers/{number}"), 400, parameter="id")


@pytest.mark.parametrize(
    ("body", "pointer"),
    [(b"{not json", ""), (b"[1, 2]", ""), (b'{"cnam_lookups_enabled": "maybe"}', "/cnam_lookups_enabled"),
     (b'{"data": "x"}', "/data")],
)  # fmt: skip
def test_purchase_with_a_bad_body_is_400_and_buys_nothing(api: httpx.Client, body: bytes, pointer: str) -> None:
    number = _first_available(api, "1808")
    assert_error(api.post(f"/v2/numbers/{number}", content=body), 400, pointer=pointer)
    assert _first_available(api, "1808") == number


def test_concurrent_purchases_of_one_number_give_exactly_one_201(server: Server) -> None:
    accounts = [make_account(server, f"racer{index}") for index in range(3)]
    with server.client(accounts[0]) as probe:
        number = _first_available(probe, "1802")
    racers = 24
    barrier = threading.Barrier(racers)

    def race(index: int) -> tuple[int, int]:
        keys = accounts[index % len(accounts)]
        with server.client(keys) as client:
            client.get("/healthz")  # connect first, so that the purchases leave together
            barrier.wait(timeout=30)
            return index % len(accounts), client.post(f"/v2/numbers/{number}").status_code

    with ThreadPoolExecutor(max_workers=racers) as pool:
        results = list(pool.map(race, range(racers)))
    assert Counter(status for _, status in results) == {201: 1, 404: racers - 1}
    winner = next(account for account, status in results if status == 201)
    for index, keys in enumerate(accounts):
        with server.client(keys) as client:
            owned = [item["id"] for item in client.get("/v2/numbers").json()["data"]]
        assert owned == ([number] if index == winner else [])


# --- idempotency ------------------------------------------------------------------------------------------


def test_idempotency_key_replays_the_first_purchase(api: httpx.Client) -> None:
    number = _first_available(api, "1406")
    headers = {"Idempotency-Key": "buy-once-1"}
    first = api.post(f"/v2/numbers/{number}", headers=headers)
    again = api.post(f"/v2/numbers/{number}", headers=headers)
    assert first.status_code == again.status_code == 201
    assert again.content == first.content
    assert again.headers.get("idempotent-replayed") == "true"
    assert [item["id"] for item in api.get("/v2/numbers").json()["data"]] == [number]


def test_idempotency_key_reused_for_another_number_is_422(api: httpx.Client) -> None:
    headers = {"Idempotency-Key": "buy-once-2"}
    first = _first_available(api, "1406")
    assert api.post(f"/v2/numbers/{first}", headers=headers).status_code == 201
    second = _first_available(api, "1406")
    assert_error(api.post(f"/v2/numbers/{second}", headers=headers), 422)
    assert _first_available(api, "1406") == second  # not bought


def test_idempotency_keys_belong_to_one_account(api: httpx.Client, stranger: httpx.Client) -> None:
    headers = {"Idempotency-Key": "shared-key"}
    number = _first_available(api, "1406")
    assert api.post(f"/v2/numbers/{number}", headers=headers).status_code == 201
    assert_error(stranger.post(f"/v2/numbers/{number}", headers=headers), 404)


# --- account numbers --------------------------------------------------------------------------------------


def test_list_of_own_numbers(api: httpx.Client, base: str, buy: Buy, seeded: dict[str, InventoryRow]) -> None:
    bought = sorted(buy(api, "1307") for _ in range(3))
    first = api.get("/v2/numbers", params={"limit": 2}).json()
    assert first == {
        "data": [owned_item(seeded[number], base) for number in bought[:2]],
        "links": {"self": f"{base}/v2/numbers?limit=2&offset=0", "next": f"{base}/v2/numbers?limit=2&offset=2"},
    }
    second = api.get(first["links"]["next"]).json()
    assert second == {
        "data": [owned_item(seeded[bought[2]], base)],
        "links": {"self": f"{base}/v2/numbers?limit=2&offset=2"},
    }


def test_list_of_own_numbers_filters(api: httpx.Client, buy: Buy) -> None:
    bought = [*sorted(buy(api, "1307") for _ in range(2)), buy(api, "1701")]
    by_prefix = api.get("/v2/numbers", params={"starts_with": "307"}).json()
    assert [item["id"] for item in by_prefix["data"]] == bought[:2]
    assert query_of(by_prefix["links"]["self"]) == "starts_with=1307&limit=10&offset=0"
    last = bought[2]
    params = {"ends_with": last[-4:], "contains": last[4:8]}
    narrowed = api.get("/v2/numbers", params=params).json()
    assert [item["id"] for item in narrowed["data"]] == [last]
    assert query_of(narrowed["links"]["self"]) == f"contains={last[4:8]}&ends_with={last[-4:]}&limit=10&offset=0"


def test_another_accounts_number_is_404_everywhere(api: httpx.Client, stranger: httpx.Client, buy: Buy) -> None:
    number = buy(api, "1701")
    assert_error(stranger.get(f"/v2/numbers/{number}"), 404)
    assert_error(stranger.delete(f"/v2/numbers/{number}"), 404)
    assert_error(stranger.patch(f"/v2/numbers/{number}", json={"alias": "mine"}), 404)
    route = {"data": {"type": "route", "id": "0"}}
    assert_error(stranger.patch(f"/v2/numbers/{number}/relationships/primary_route", json=route), 404)
    callback = {"callback_url": "https://example.com/sms"}
    assert_error(stranger.post(f"/v2/numbers/{number}/relationships/sms_callback", json=callback), 404)
    assert stranger.get("/v2/numbers").json()["data"] == []
    assert api.get(f"/v2/numbers/{number}").json()["data"]["attributes"]["alias"] is None


def test_get_of_an_available_number_is_404(api: httpx.Client) -> None:
    assert_error(api.get(f"/v2/numbers/{_first_available(api, '1701')}"), 404)


# --- release ----------------------------------------------------------------------------------------------


def test_release_returns_the_number_to_the_inventory(
    api: httpx.Client, stranger: httpx.Client, base: str, seeded: dict[str, InventoryRow]
) -> None:
    number = _first_available(api, "1605")
    assert api.post(f"/v2/numbers/{number}").status_code == 201
    assert api.get("/v2/numbers/available", params={"starts_with": number}).json()["data"] == []
    released = api.delete(f"/v2/numbers/{number}")
    assert released.status_code == 204 and released.content == b""
    assert_error(api.get(f"/v2/numbers/{number}"), 404)
    assert_error(api.delete(f"/v2/numbers/{number}"), 404)
    assert api.get("/v2/numbers").json()["data"] == []
    found = api.get("/v2/numbers/available", params={"starts_with": number}).json()["data"]
    assert found == [available_item(seeded[number], base)]
    again = stranger.post(f"/v2/numbers/{number}")
    assert again.status_code == 201
    assert again.json() == detail_document(seeded[number], base)  # no alias or route left from before


# --- PATCH (alias) ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "body",
    [
        {"type": "number", "alias": "front desk"},
        {"data": {"type": "number", "id": "X", "attributes": {"alias": "front desk"}}},
        {"alias": "front desk"},
    ],
)
def test_patch_alias_in_every_body_shape(
    api: httpx.Client, base: str, buy: Buy, seeded: dict[str, InventoryRow], body: dict[str, object]
) -> None:
    number = buy(api, "1302")
    response = api.patch(f"/v2/numbers/{number}", json=body)
    assert response.status_code == 200
    assert response.json() == detail_document(seeded[number], base, alias="front desk")
    assert api.get(f"/v2/numbers/{number}").json() == response.json()
    listed = api.get("/v2/numbers", params={"alias": "front desk"}).json()
    assert [item["id"] for item in listed["data"]] == [number]
    assert query_of(listed["links"]["self"]) == "alias=front%20desk&limit=10&offset=0"


def test_patch_without_content_type_and_clearing_the_alias(
    api: httpx.Client, base: str, buy: Buy, seeded: dict[str, InventoryRow]
) -> None:
    number = buy(api, "1302")
    request = api.build_request("PATCH", f"/v2/numbers/{number}", content=b'{"alias": "x"}')
    assert "content-type" not in request.headers
    assert api.send(request).json()["data"]["attributes"]["alias"] == "x"
    cleared = api.patch(f"/v2/numbers/{number}", json={"alias": None})
    assert cleared.json() == detail_document(seeded[number], base)


@pytest.mark.parametrize(
    ("body", "pointer"),
    [(b"", ""), (b"{", ""), (b'"alias"', ""), (b'{"alias": 5}', "/alias"),
     (b'{"data": {"attributes": {"alias": ["a"]}}}', "/data/attributes/alias"),
     (b'{"alias": "' + b"a" * 300 + b'"}', "/alias")],
)  # fmt: skip
def test_patch_with_a_bad_body_is_400(api: httpx.Client, buy: Buy, body: bytes, pointer: str) -> None:
    number = buy(api, "1302")
    assert_error(api.patch(f"/v2/numbers/{number}", content=body), 400, pointer=pointer)
    assert api.get(f"/v2/numbers/{number}").json()["data"]["attributes"]["alias"] is None
