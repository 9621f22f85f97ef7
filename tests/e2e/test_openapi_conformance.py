"""Real responses against `/openapi.json`: a tour through every documented operation on a running server,
successes and the errors each one can give, with every response validated by `Contract` (status code
documented, Content-Type, body schema)."""

from __future__ import annotations

import itertools
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor

import httpx

from tests.e2e.test_openapi_contract import Contract
from tests.support import e911_cnam_tour
from tests.support.messaging import admin_token, new_account, wait_until
from tests.support.receiver import Receiver, sized_content
from tests.support.server import Server

OFF_NET = "13125550123"
PREFIX = "1415"  # numbers this module buys (no other module reads 415)
_addresses = itertools.count(1)


def client_address() -> dict[str, str]:
    """A client address of its own for this module's failed logins (the server trusts X-Forwarded-For
    from 127.0.0.1, as uvicorn does by default), so they never throttle another test's."""
    return {"X-Forwarded-For": f"198.51.100.{next(_addresses)}"}


def _buy(client: httpx.Client, **kwargs: object) -> str:
    found = client.get("/v2/numbers/available", params={"starts_with": PREFIX, "limit": 1})
    number = str(found.json()["data"][0]["id"])
    assert client.post(f"/v2/numbers/{number}", **kwargs).status_code == 201  # type: ignore[arg-type]
    return number


def test_every_operation_answers_as_documented(server: Server, contract: Contract, media_host: Receiver) -> None:
    keys = new_account(server, "openapi-tour")
    admin = {"Authorization": f"Bearer {admin_token(server)}"}
    with contract.client(server) as anonymous, contract.client(server, keys) as api:
        _operations(anonymous)
        _inventory(api)
        number, second = _numbers(api)
        route_id = _routes(api, number)
        _callbacks(api, number)
        e911_cnam_tour.tour(api, server, number)
        _messages(api, number, media_host)
        _messages_v22_and_porting(api, number)
        _inbound(anonymous, api, number, admin)
        _sandbox(contract, server, anonymous, admin)
        _release(api, second)
        _authentication(contract, server, keys)
        _limits(api)
    _assert_coverage(contract)
    assert route_id


def _operations(anonymous: httpx.Client) -> None:
    for path in ("/healthz", "/readyz", "/metrics", "/openapi.json"):
        assert anonymous.get(path).status_code == 200
    assert anonymous.head("/healthz").status_code == 200
    assert anonymous.delete("/healthz").status_code == 405
    assert anonymous.get("/no/such/path").status_code == 404


def _inventory(api: httpx.Client) -> None:
    assert "next" in api.get("/v2/numbers/available/areacodes", params={"limit": 2}).json()["links"]
    assert api.get("/v2/numbers/available/areacodes", params={"max_setup_cost": "x"}).status_code == 400
    exchanges = api.get("/v2/numbers/available/exchanges", params={"areacode": "415", "limit": 2})
    assert exchanges.json()["data"]
    assert api.get("/v2/numbers/available/exchanges", params={"areacode": "15"}).status_code == 400
    found = api.get("/v2/numbers/available", params={"starts_with": PREFIX, "limit": 2}).json()
    assert len(found["data"]) == 2 and "next" in found["links"]
    assert api.get("/v2/numbers/available", params={"number_type": "toll-free", "limit": 1}).json()["data"]
    assert api.get("/v2/numbers/available", params={"rate_center": "x"}).status_code == 400
    assert api.get("/v2/numbers/available", params={"limit": "0"}).status_code == 400


def _numbers(api: httpx.Client) -> tuple[str, str]:
    number = _buy(api)
    second = _buy(
        api, json={"data": {"attributes": {"cnam_lookups_enabled": False}}}, headers={"Idempotency-Key": "k1"}
    )
    replay = api.post(
        f"/v2/numbers/{second}",
        json={"data": {"attributes": {"cnam_lookups_enabled": False}}},
        headers={"Idempotency-Key": "k1"},
    )
    assert replay.status_code == 201 and replay.headers["idempotent-replayed"] == "true"
    assert api.post(f"/v2/numbers/{second}", headers={"Idempotency-Key": "k1"}).status_code == 422
    assert api.post(f"/v2/numbers/{second}").status_code == 404
    assert api.post("/v2/numbers/1206abc").status_code == 400
    assert api.post("/v2/numbers/available").status_code == 405
    assert api.post(f"/v2/numbers/{number}", content=b"{").status_code == 400
    listed = api.get("/v2/numbers", params={"limit": 1}).json()
    assert len(listed["data"]) == 1 and "next" in listed["links"]
    assert api.get("/v2/numbers", params={"offset": "-1"}).status_code == 400
    assert api.get(f"/v2/numbers/{number}").status_code == 200
    assert api.get("/v2/numbers/12065550000").status_code == 404
    assert api.get("/v2/numbers/2065").status_code == 400
    assert api.patch(f"/v2/numbers/{number}", json={"alias": "tour"}).json()["data"]["attributes"]["alias"] == "tour"
    assert api.patch(f"/v2/numbers/{number}", json={"data": {"attributes": {"alias": None}}}).status_code == 200
    assert api.patch(f"/v2/numbers/{number}", json={"alias": 5}).status_code == 400
    assert api.patch("/v2/numbers/12065550000", json={"alias": "x"}).status_code == 404
    assert api.patch("/v2/numbers/available", json={"alias": "x"}).status_code == 405
    return number, second


def _routes(api: httpx.Client, number: str) -> str:
    body = {"data": {"type": "route", "attributes": {"route_type": "host", "value": "sip.example.com", "alias": "a"}}}
    created = api.post("/v2/routes", json=body)
    assert created.status_code == 201
    route_id = str(created.json()["data"]["id"])
    flat = api.post("/v2/routes", json={"route_type": "uri", "value": "sip:x@example.com", "edge_strategy": 2})
    assert flat.status_code == 201
    assert api.post("/v2/routes", json={"route_type": "pigeon", "value": "x"}).status_code == 422
    assert api.post("/v2/routes", json={"value": "x"}).status_code == 400
    assert api.post("/v2/routes", content=b"[]").status_code == 400
    assert "next" in api.get("/v2/routes", params={"limit": 1}).json()["links"]
    assert api.get("/v2/routes", params={"route_type": "host"}).json()["data"]
    assert api.get("/v2/routes", params={"limit": "1.5"}).status_code == 400
    assert api.get(f"/v2/routes/{route_id}").status_code == 200
    assert api.get("/v2/routes/0").status_code == 200
    assert api.get("/v2/routes/999999999").status_code == 404
    assert api.get("/v2/routes/edge_strategies").status_code == 200
    relationship = {"data": {"type": "route", "id": route_id}}
    assert api.patch(f"/v2/numbers/{number}/relationships/primary_route", json=relationship).status_code == 204
    assert api.patch(f"/v2/numbers/{number}/relationships/failover_route", json=relationship).status_code == 204
    missing = {"data": {"type": "route", "id": "999999999"}}
    assert api.patch(f"/v2/numbers/{number}/relationships/failover_route", json=missing).status_code == 404
    assert api.patch(f"/v2/numbers/{number}/relationships/primary_route", json={"data": 1}).status_code == 400
    detail = api.get(f"/v2/numbers/{number}").json()
    assert [item["id"] for item in detail["included"]] == [route_id]
    return route_id


def _callbacks(api: httpx.Client, number: str) -> None:
    url = {"callback_url": "https://customer.example/sms"}
    for method in ("POST", "PUT", "PATCH"):
        assert api.request(method, f"/v2/numbers/{number}/relationships/sms_callback", json=url).status_code == 204
    wrapped = {"data": {"attributes": {"callback_url": None}}}
    assert api.post(f"/v2/numbers/{number}/relationships/mms_callback", json=wrapped).status_code == 204
    assert api.post(f"/v2/numbers/{number}/relationships/fax_callback", json=url).status_code == 404
    assert (
        api.post(f"/v2/numbers/{number}/relationships/sms_callback", json={"callback_url": "ftp://x"}).status_code
        == 400
    )
    assert api.post("/v2/numbers/12065550000/relationships/sms_callback", json=url).status_code == 404
    assert api.put("/v2.1/messages/sms_dlr_callback", json=url).status_code == 204
    assert api.post("/v2.1/messages/dlr_callback", json={"callback_url": ""}).status_code == 204
    assert api.put("/v2.1/messages/fax_callback", json=url).status_code == 404
    assert api.put("/v2.1/messages/sms_callback", json={"callback_url": 7}).status_code == 400
    assert api.delete("/v2.1/messages/sms_callback").status_code == 405


def _messages(api: httpx.Client, number: str, media_host: Receiver) -> None:
    picture = media_host.serve("/tour/cat.png", sized_content(1500), content_type="image/png")
    sms = api.post("/v2.1/messages", json={"to": OFF_NET, "from": number, "body": "tour"})
    assert sms.status_code == 202
    sms_id = sms.json()["data"]["id"]
    wrapped = {"data": {"type": "message", "attributes": {"to": OFF_NET, "from": number, "media_urls": [picture]}}}
    mms = api.post("/v2.1/messages", json=wrapped)
    assert mms.status_code == 202
    mms_id = mms.json()["data"]["id"]
    assert api.post("/v2.1/messages", json={"to": OFF_NET, "from": OFF_NET, "body": "x"}).status_code == 403
    assert api.post("/v2.1/messages", json={"to": "123", "from": number, "body": "x"}).status_code == 422
    assert api.post("/v2.1/messages", json={"to": OFF_NET, "from": number}).status_code == 400
    missing_media = media_host.url("/tour/missing.png")
    assert (
        api.post("/v2.1/messages", json={"to": OFF_NET, "from": number, "media_urls": [missing_media]}).status_code
        == 422
    )

    def delivered() -> bool:
        attributes = api.get(f"/v2.1/messages/{sms_id}").json()["data"]["attributes"]
        return attributes["status"] == "delivered" and len(attributes["delivery_receipts"]) == 2

    wait_until(delivered, timeout=20, what="the tour's SMS delivered")
    document = api.get(f"/v2.1/messages/{mms_id}").json()
    media_id = document["included"][0]["id"]
    media = api.get(f"/v2.1/media/{media_id}")
    assert media.status_code == 200 and media.headers["content-type"] == "image/png"
    assert api.get("/v2.1/media/123-nope.png").status_code == 404
    assert api.get("/v2.1/messages/mdr2-" + "0" * 32).status_code == 404
    listed = api.get("/v2.1/messages", params={"start_date": "2000-01-01", "limit": 1}).json()
    assert len(listed["data"]) == 1 and "next" in listed["links"]
    assert api.get("/v2.1/messages").status_code == 400
    assert api.get("/v2.1/messages", params={"start_date": "yesterday"}).status_code == 400


def _inbound(anonymous: httpx.Client, api: httpx.Client, number: str, admin: dict[str, str]) -> None:
    body = {"from": OFF_NET, "to": number, "body": "hi there"}
    accepted = anonymous.post("/sandbox/inbound", json=body, headers=admin)
    assert accepted.status_code == 202
    inbound = api.get(f"/v2.1/messages/{accepted.json()['data']['id']}").json()
    assert inbound["data"]["attributes"]["direction"] == "inbound"
    assert anonymous.post("/sandbox/inbound", json=body, headers={"Authorization": "Bearer nope"}).status_code == 401
    assert anonymous.post("/sandbox/inbound", json={**body, "to": "12065550000"}, headers=admin).status_code == 404
    assert anonymous.post("/sandbox/inbound", json={"to": number}, headers=admin).status_code == 400


def _faults(mine: httpx.Client) -> None:
    delivery = {"kind": "delivery", "match": "1312555", "outcome": "undelivered", "status_code": 1150, "count": 2}
    created = mine.post("/sandbox/faults", json=delivery)
    assert created.status_code == 201
    slow = {"kind": "api", "outcome": "slow", "delay": 0.01, "expires_in": 60}
    assert mine.post("/sandbox/faults", json={"data": {"type": "sandbox_fault", "attributes": slow}}).status_code == 201
    assert mine.post("/sandbox/faults", json={"kind": "api", "outcome": 404}).status_code == 422
    assert mine.post("/sandbox/faults", content=b"{").status_code == 400
    assert mine.get("/sandbox/faults").status_code == 200
    assert mine.delete(f"/sandbox/faults/{created.json()['data']['id']}").status_code == 204
    assert mine.delete(f"/sandbox/faults/{created.json()['data']['id']}").status_code == 404


def _sandbox_callbacks(mine: httpx.Client) -> None:
    """The receipts' callbacks to a closed port: tries that failed."""
    assert mine.get("/sandbox/callbacks/wait", params={"kind": "dlr", "timeout": 15}).status_code == 200
    assert mine.get("/sandbox/callbacks/wait", params={"kind": "inbound_mms", "timeout": 0}).status_code == 408
    assert mine.get("/sandbox/callbacks/wait", params={"timeout": 61}).status_code == 422
    assert mine.get("/sandbox/callbacks", params={"outcome": "failed", "limit": 1}).status_code == 200
    assert mine.get("/sandbox/callbacks", params={"kind": "sms"}).status_code == 400


def _sandbox_clock(anonymous: httpx.Client, admin: dict[str, str]) -> None:
    """The shared server's clock is read and advanced by nothing: other tests run on it."""
    assert anonymous.get("/sandbox/clock", headers=admin).status_code == 200
    assert anonymous.post("/sandbox/clock/advance", json={"seconds": 0}, headers=admin).status_code == 200
    assert anonymous.post("/sandbox/clock/advance", json={"seconds": -1}, headers=admin).status_code == 422
    assert anonymous.post("/sandbox/clock/advance", json={"seconds": 1}).status_code == 401


def _sandbox(contract: Contract, server: Server, anonymous: httpx.Client, admin: dict[str, str]) -> None:
    callbacks = {"sms_callback": "https://example.com/in", "sms_dlr_callback": "http://127.0.0.1:9/dlr"}
    body = {"numbers": 1, "area_code": "269", "callbacks": callbacks}
    created = anonymous.post("/sandbox/accounts", json=body, headers=admin)
    assert created.status_code == 201
    attributes = created.json()["data"]["attributes"]
    access_key, number = attributes["access_key"], attributes["numbers"][0]
    assert anonymous.post("/sandbox/accounts", json={"numbers": 11}, headers=admin).status_code == 422
    assert anonymous.post("/sandbox/accounts", json={"numbers": ["12"]}, headers=admin).status_code == 400
    assert anonymous.post("/sandbox/accounts", json={}).status_code == 401
    with contract.client(server, (access_key, attributes["secret_key"])) as mine:
        assert mine.post("/v2.1/messages", json={"to": OFF_NET, "from": number, "body": "code 4321"}).status_code == 202
        assert mine.get("/sandbox/messages", params={"limit": 1}).status_code == 200
        assert mine.get("/sandbox/messages", params={"direction": "sideways"}).status_code == 400
        assert mine.get("/sandbox/messages/wait", params={"contains": "code", "timeout": 5}).status_code == 200
        assert mine.get("/sandbox/messages/wait", params={"direction": "inbound", "timeout": 0}).status_code == 408
        assert mine.get("/sandbox/messages/wait", params={"timeout": 61}).status_code == 422
        _faults(mine)
        _sandbox_callbacks(mine)
        assert mine.post("/sandbox/reset").status_code == 204
    _sandbox_clock(anonymous, admin)
    assert anonymous.delete(f"/sandbox/accounts/{access_key}", headers=admin).status_code == 204
    assert anonymous.delete(f"/sandbox/accounts/{access_key}", headers=admin).status_code == 404
    assert anonymous.delete(f"/sandbox/accounts/{access_key}").status_code == 401


def _release(api: httpx.Client, number: str) -> None:
    assert api.delete(f"/v2/numbers/{number}").status_code == 204
    assert api.delete(f"/v2/numbers/{number}").status_code == 404
    assert api.delete("/v2/numbers/12").status_code == 400
    assert api.delete("/v2/numbers/available").status_code == 405


def _authentication(contract: Contract, server: Server, keys: tuple[str, str]) -> None:
    headers = client_address()
    with contract.client(server, (keys[0], keys[1] + "x"), headers=headers) as wrong:
        statuses = [wrong.get("/v2/numbers").status_code for _ in range(12)]
    assert statuses[:10] == [401] * 10 and statuses[-1] == 429
    with contract.client(server) as anonymous:
        assert anonymous.get("/v2.1/messages", params={"start_date": "2000-01-01"}).status_code == 401


def _limits(api: httpx.Client) -> None:
    assert api.post("/v2/routes", content=b"{" + b" " * 1_100_000 + b"}").status_code == 413
    number = str(api.get("/v2/numbers").json()["data"][0]["id"])

    def send(index: int) -> int:
        return api.post("/v2.1/messages", json={"to": OFF_NET, "from": number, "body": f"burst {index}"}).status_code

    # At once, so that a slow machine cannot pace them under the limit of 5 a second.
    with ThreadPoolExecutor(12) as pool:
        statuses = list(pool.map(send, range(12)))
    assert 429 in statuses, statuses


def _messages_v22_and_porting(api: httpx.Client, number: str) -> None:
    sent = api.post("/v2.2/messages", json={"to": f"+{OFF_NET}", "from": f"+{number}", "body": "tour v2.2"})
    assert sent.status_code == 202
    assert api.get(f"/v2.2/messages/{sent.json()['data']['id']}").status_code == 200
    assert api.get("/v2.2/messages/mdr2-" + "0" * 32).status_code == 404
    assert api.post("/v2.2/messages", json={"to": OFF_NET, "from": f"+{number}", "body": "x"}).status_code == 422
    listed = api.get("/v2.2/messages", params={"start_date": "2000-01-01", "limit": 2}).json()
    assert len(listed["data"]) == 2 and "next" in listed["links"]
    assert api.get("/v2.2/messages").status_code == 400
    mms = next(
        item
        for item in api.get("/v2.2/messages", params={"start_date": "2000-01-01"}).json()["data"]
        if item["attributes"]["is_mms"]
    )
    media = api.get(f"/v2.2/messages/{mms['id']}").json()["included"][0]
    assert api.get(media["links"]["self"]).status_code == 200
    assert api.get("/v2.2/media/123-nope.png").status_code == 404
    assert api.put("/v2.2/messages/sms_dlr_callback", json={"callback_url": None}).status_code == 204
    assert api.put("/v2.2/messages/dlr_callback", json={"callback_url": None}).status_code == 404
    form = {"content-type": "application/x-www-form-urlencoded"}
    checked = api.post(
        "/v2/portorders/portability", content=f"numbers=%2B{number}&numbers=%2B14252081174", headers=form
    )
    assert checked.json()["data"]["portable"] == ["+14252081174"]
    assert api.post("/v2/portorders/portability", json={"numbers": []}).status_code == 422
    assert api.post("/v2/portorders/portability", content=b"{").status_code == 400


def _assert_coverage(contract: Contract) -> None:
    statuses: dict[tuple[str, str], set[int]] = defaultdict(set)
    for template, method, status in contract.seen:
        statuses[(template, method)].add(status)
    for operation in contract.operations():
        documented = {int(code) for code in operation.spec["responses"] if code.isdigit() and code < "300"}
        seen = statuses[(operation.template, operation.method)]
        assert documented & seen, f"{operation.method.upper()} {operation.template}: no success seen ({seen})"
    errors = {(template, method, status) for template, method, status in contract.seen if status >= 400}
    print(f"{contract.checked} responses validated; {len(contract.seen)} (operation, status) pairs seen")
    assert {status for _, _, status in errors} >= {400, 401, 403, 404, 405, 413, 422, 429}
    assert len(errors) >= 40, sorted(errors)
