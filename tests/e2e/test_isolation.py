"""Two accounts on one server: B using any of A's ids (numbers, routes, messages, media, callbacks) gets a 404
that reads exactly like the 404 of an id that never existed, changes nothing of A's, and no response B gets
anywhere carries A's data."""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from telroute.accounts.model import CALLBACK_TYPES
from tests.e2e.test_openapi_contract import Contract
from tests.support import loopback
from tests.support.databases import database_url_for
from tests.support.flowroute_sdks import PythonSdk
from tests.support.isolated import Deployment
from tests.support.messaging import admin_token, new_account, wait_until
from tests.support.receiver import Receiver, sized_content
from tests.support.server import Server, run_cli

PREFIX = "1702"  # numbers this module buys (no other module reads 702)
OFF_NET = "13125550123"
NEVER = "19995550100"  # a valid number that is in no inventory (999 is no area code in use)
E911_FIELDS = {
    "label": "E911", "first_name": "Ann", "last_name": "Lee", "street_name": "Main St", "street_number": "645",
    "city": "Seattle", "state": "WA", "country": "US", "zipcode": "98104",
}  # fmt: skip
E911_ATTRIBUTES = {**{key: value for key, value in E911_FIELDS.items() if key != "zipcode"}, "zip": "98104"}


@dataclass
class Owner:
    """Account A and everything it has, with the strings that must never reach B."""

    keys: tuple[str, str]
    number: str
    spare: str
    route_id: str
    message_ids: list[str]
    media_id: str
    secrets: set[str]


@dataclass
class Intruder:
    keys: tuple[str, str]
    number: str
    route_id: str


def _buy(api: httpx.Client) -> str:
    number = str(api.get("/v2/numbers/available", params={"starts_with": PREFIX, "limit": 1}).json()["data"][0]["id"])
    assert api.post(f"/v2/numbers/{number}").status_code == 201
    return number


@pytest.fixture(scope="module")
def owner(server: Server, contract: Contract, media_host: Receiver) -> Owner:
    tag = uuid.uuid4().hex[:12]
    keys = new_account(server, f"owner-{tag}")
    picture = media_host.serve(f"/{tag}/private-{tag}.png", sized_content(900), content_type="image/png")
    with contract.client(server, keys) as api:
        number, spare = _buy(api), _buy(api)
        assert api.patch(f"/v2/numbers/{number}", json={"alias": f"alias-{tag}"}).status_code == 200
        route = api.post(
            "/v2/routes", json={"route_type": "host", "value": f"sip-{tag}.example", "alias": f"route-{tag}"}
        )
        route_id = str(route.json()["data"]["id"])
        relationship = {"data": {"type": "route", "id": route_id}}
        assert api.patch(f"/v2/numbers/{number}/relationships/primary_route", json=relationship).status_code == 204
        callback = media_host.url(f"/{tag}/callback")
        for callback_type in CALLBACK_TYPES:
            url = {"callback_url": f"{callback}/{callback_type}"}
            assert api.post(f"/v2/numbers/{number}/relationships/{callback_type}", json=url).status_code == 204
        headers = {"Idempotency-Key": f"key-{tag}"}
        sms_body = {"to": OFF_NET, "from": number, "body": f"sms-{tag}"}
        sms = api.post("/v2.1/messages", json=sms_body, headers=headers).json()["data"]["id"]
        mms = api.post("/v2.1/messages", json={"to": OFF_NET, "from": number, "media_urls": [picture]}).json()["data"][
            "id"
        ]
        on_net = api.post("/v2.1/messages", json={"to": spare, "from": number, "body": f"on-net-{tag}"}).json()["data"][
            "id"
        ]
        with loopback.client(base_url=server.url, timeout=30) as anonymous:
            injected = anonymous.post(
                "/sandbox/inbound",
                json={"from": OFF_NET, "to": number, "body": f"inbound-{tag}"},
                headers={"Authorization": f"Bearer {admin_token(server)}"},
            )
        inbound = injected.json()["data"]["id"]
        media_id = api.get(f"/v2.1/messages/{mms}").json()["included"][0]["id"]

        def on_net_arrived() -> list[str]:
            listed = api.get("/v2.1/messages", params={"start_date": "2000-01-01"}).json()["data"]
            return [item["id"] for item in listed] if len(listed) == 5 else []

        ids = wait_until(on_net_arrived, timeout=20, what="A's five messages")
    secrets = {number, spare, keys[0], keys[1], f"alias-{tag}", f"route-{tag}", f"sip-{tag}", tag, media_id, *ids}
    return Owner(keys, number, spare, route_id, ids, media_id, secrets | {sms, mms, on_net, inbound})


@pytest.fixture(scope="module")
def intruder(server: Server, contract: Contract) -> Intruder:
    keys = new_account(server, "intruder")
    with contract.client(server, keys) as api:
        number = _buy(api)
        route = api.post("/v2/routes", json={"route_type": "number", "value": NEVER, "alias": "mine"})
    return Intruder(keys, number, str(route.json()["data"]["id"]))


def _a_state(server: Server, owner: Owner) -> dict[str, Any]:
    """A's rows as they are in the database, and A's own view through the API."""
    deployed = Deployment(server.data_dir, database_url_for(server.data_dir))
    rows = deployed.query(
        "SELECT n.*, a.access_key FROM numbers n JOIN accounts a ON a.id = n.account_id "
        "WHERE n.value IN (:number, :spare) ORDER BY n.value",
        {"number": owner.number, "spare": owner.spare},
    )
    account = deployed.query(
        "SELECT sms_callback, mms_callback, sms_dlr_callback, mms_dlr_callback, secret_hash FROM accounts "
        "WHERE access_key = :key",
        {"key": owner.keys[0]},
    )
    with loopback.client(base_url=server.url, auth=owner.keys, timeout=30) as api:
        views = {
            path: api.get(path).json()
            for path in ("/v2/numbers", f"/v2/numbers/{owner.number}", "/v2/routes", f"/v2/routes/{owner.route_id}")
        }
        messages = api.get("/v2.1/messages", params={"start_date": "2000-01-01"}).json()
    for item in messages["data"]:  # receipts may still arrive for A's messages meanwhile: compare the rest
        item["attributes"].pop("delivery_receipts")
        item["attributes"].pop("status")
    return {"numbers": rows, "account": account, "views": views, "messages": messages}


def _normalized(detail: str, *ids: str) -> str:
    for identifier in ids:
        detail = detail.replace(identifier, "<id>")
    return re.sub(r"\d{11}", "<id>", detail)


class Probe:
    """B's client: every response is checked against the document and for A's data."""

    def __init__(self, client: httpx.Client, owner: Owner) -> None:
        self.client = client
        self.owner = owner
        self.count = 0

    def request(self, method: str, path: str, expect: int, **kwargs: Any) -> httpx.Response:
        response = self.client.request(method, path, **kwargs)
        assert response.status_code == expect, (method, path, response.status_code, response.text)
        asked = path + str(kwargs.get("json", "")) + str(kwargs.get("params", ""))
        leaked = {secret for secret in self.owner.secrets if secret in response.text and secret not in asked}
        assert not leaked, (method, path, leaked, response.text)
        self.count += 1
        return response


def test_b_gets_404_for_every_id_of_a_and_learns_nothing(
    server: Server, contract: Contract, owner: Owner, intruder: Intruder
) -> None:
    before = _a_state(server, owner)
    b_route = {"data": {"type": "route", "id": intruder.route_id}}
    a_route = {"data": {"type": "route", "id": owner.route_id}}
    with contract.client(server, intruder.keys) as client:
        b = Probe(client, owner)
        for number in (owner.number, owner.spare):
            absent = b.request("GET", f"/v2/numbers/{NEVER}", 404).json()["errors"][0]["detail"]
            found = b.request("GET", f"/v2/numbers/{number}", 404).json()["errors"][0]["detail"]
            assert _normalized(found, number) == _normalized(absent, NEVER), "a 404 must not tell owned from unknown"
            b.request("PATCH", f"/v2/numbers/{number}", 404, json={"alias": "stolen"})
            b.request("DELETE", f"/v2/numbers/{number}", 404)
            bought = b.request("POST", f"/v2/numbers/{number}", 404).json()["errors"][0]["detail"]
            never = b.request("POST", f"/v2/numbers/{NEVER}", 404).json()["errors"][0]["detail"]
            assert _normalized(bought, number) == _normalized(never, NEVER)
            for kind in ("primary_route", "failover_route"):
                b.request("PATCH", f"/v2/numbers/{number}/relationships/{kind}", 404, json=b_route)
            for callback_type in CALLBACK_TYPES:
                body = {"callback_url": "https://intruder.example/steal"}
                b.request("POST", f"/v2/numbers/{number}/relationships/{callback_type}", 404, json=body)
        for kind in ("primary_route", "failover_route"):  # B's own number, A's route
            refused = b.request("PATCH", f"/v2/numbers/{intruder.number}/relationships/{kind}", 404, json=a_route)
            missing = {"data": {"type": "route", "id": "987654321"}}
            unknown = b.request("PATCH", f"/v2/numbers/{intruder.number}/relationships/{kind}", 404, json=missing)
            assert _normalized(refused.json()["errors"][0]["detail"], owner.route_id) == _normalized(
                unknown.json()["errors"][0]["detail"], "987654321"
            )
        b.request("GET", f"/v2/routes/{owner.route_id}", 404)
        for message_id in owner.message_ids:
            b.request("GET", f"/v2.1/messages/{message_id}", 404)
        b.request("GET", f"/v2.1/media/{owner.media_id}", 404)
        # Sending from A's number is refused as the contract says (403), and A's idempotency key replays nothing.
        tag = next(secret for secret in owner.secrets if re.fullmatch(r"[0-9a-f]{12}", secret))
        replay = {"to": OFF_NET, "from": owner.number, "body": f"sms-{tag}"}
        b.request("POST", "/v2.1/messages", 403, json=replay, headers={"Idempotency-Key": f"key-{tag}"})
        # B's own lists and searches show none of A's data.
        assert b.request("GET", "/v2/numbers", 200).json()["data"][0]["id"] == intruder.number
        b.request("GET", "/v2/numbers", 200, params={"alias": f"alias-{tag}"})
        routes = b.request("GET", "/v2/routes", 200, params={"limit": 200}).json()["data"]
        assert {item["id"] for item in routes} <= {"0", intruder.route_id}
        assert b.request("GET", "/v2.1/messages", 200, params={"start_date": "2000-01-01"}).json()["data"] == []
        for prefix in (owner.number, owner.spare):
            b.request("GET", "/v2/numbers/available", 200, params={"starts_with": prefix})
        # The sandbox tools: B's searches and waits find nothing of A's, B's reset leaves A's messages, and B's
        # credentials delete no account.
        for number in (owner.number, owner.spare):
            for name in ("to", "from"):
                assert b.request("GET", "/sandbox/messages", 200, params={name: number}).json()["data"] == []
                b.request("GET", "/sandbox/messages/wait", 408, params={name: number, "timeout": 0})
        assert b.request("GET", "/sandbox/messages", 200, params={"contains": tag}).json()["data"] == []
        b.request("GET", "/sandbox/messages/wait", 408, params={"contains": tag, "timeout": 0.2})
        b.request("POST", "/sandbox/reset", 204)
        b.request("DELETE", f"/sandbox/accounts/{owner.keys[0]}", 401)
        assert b.count >= 40
    assert _a_state(server, owner) == before, "B changed something of A's"
    with contract.client(server, owner.keys) as api:  # and A still has it all
        assert api.get(f"/v2/routes/{owner.route_id}").status_code == 200
        assert api.get(f"/v2.1/media/{owner.media_id}").status_code == 200
        for message_id in owner.message_ids:
            assert api.get(f"/v2.1/messages/{message_id}").status_code == 200


def test_a_reads_only_its_own_inbound_side_of_an_on_net_message(server: Server, owner: Owner) -> None:
    """Both ends of an on-net message are A's here; each MDR names A's numbers only."""
    with loopback.client(base_url=server.url, auth=owner.keys, timeout=30) as api:
        listed = api.get("/v2.1/messages", params={"start_date": "2000-01-01"}).json()["data"]
    numbers = {owner.number, owner.spare, OFF_NET}
    for item in listed:
        attributes = item["attributes"]
        assert {attributes["to"], attributes["from"]} <= numbers, attributes


def _tag_of(owner: Owner) -> str:
    return next(secret for secret in owner.secrets if re.fullmatch(r"[0-9a-f]{12}", secret))


def _e911_and_cnam_views(server: Server, owner: Owner, address_id: str, preset_id: str) -> dict[str, Any]:
    with loopback.client(base_url=server.url, auth=owner.keys, timeout=30) as api:
        paths = ("/v2/e911s", f"/v2/e911s/{address_id}", f"/v2/e911s/{address_id}/relationships/numbers",
                 "/v2/cnams", f"/v2/cnams/{preset_id}", f"/v2/numbers/{owner.spare}")  # fmt: skip
        return {path: api.get(path).json() for path in paths}


def test_b_gets_404_for_every_e911_address_and_cnam_preset_of_a(
    server: Server, contract: Contract, owner: Owner, intruder: Intruder
) -> None:
    tag = _tag_of(owner)
    with contract.client(server, owner.keys) as api:
        a = PythonSdk(api)
        address = a.create_address(**{**E911_FIELDS, "label": f"label-{tag}"}).json()["data"]["id"]
        assert a.associate(address, owner.spare).status_code == 204
        preset = a.create_cnam_record(f"N{tag}").json()["data"]["id"]
    run_cli(server.data_dir, "cnam", "approve", preset)
    with contract.client(server, owner.keys) as api:
        assert PythonSdk(api).associate_cnam(preset, owner.spare).status_code == 202
    before = _e911_and_cnam_views(server, owner, address, preset)
    with contract.client(server, intruder.keys) as client:
        b = Probe(client, owner)
        own = b.request("POST", "/v2/e911s", 201, json={"data": {"type": "e911", "attributes": E911_ATTRIBUTES}})
        own_address = own.json()["data"]["id"]
        for kind, identifier in (("e911s", address), ("cnams", preset)):
            absent = b.request("GET", f"/v2/{kind}/987654321", 404).json()["errors"][0]["detail"]
            found = b.request("GET", f"/v2/{kind}/{identifier}", 404).json()["errors"][0]["detail"]
            assert re.sub(rf"\b{identifier}\b", "<id>", found) == absent.replace("987654321", "<id>")
            b.request("DELETE", f"/v2/{kind}/{identifier}", 404)
        b.request("PATCH", f"/v2/e911s/{address}", 404, json={"data": {"type": "e911", "attributes": {"label": "x"}}})
        b.request("GET", f"/v2/e911s/{address}/relationships/numbers", 404)
        b.request("PATCH", f"/v2/numbers/{intruder.number}/relationships/e911s/{address}", 404)
        b.request("PATCH", f"/v2/numbers/{owner.number}/relationships/e911s/{own_address}", 404)
        b.request("DELETE", f"/v2/numbers/{owner.spare}/relationships/e911s", 404)
        for spelling in ("cnam", "cnams"):
            b.request("PATCH", f"/v2/numbers/{intruder.number}/relationships/{spelling}/{preset}", 404)
            b.request("DELETE", f"/v2/numbers/{owner.spare}/relationships/{spelling}", 404)
        assert [item["id"] for item in b.request("GET", "/v2/e911s", 200).json()["data"]] == [own_address]
        assert b.request("GET", "/v2/cnams", 200, params={"is_approved": "true"}).json()["data"] == []
    assert _e911_and_cnam_views(server, owner, address, preset) == before, "B changed something of A's"
