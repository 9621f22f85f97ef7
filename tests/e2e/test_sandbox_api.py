"""The sandbox as a test tool, over real sockets against a real `telroute serve`: throwaway accounts (admin
token), searching and waiting for an account's messages with their one-time codes (account credentials),
reset, deletion, isolation between accounts, and no /sandbox/ path at all in production."""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from tests.support import loopback
from tests.support.databases import database_url_for
from tests.support.inprocess import InProcessServer
from tests.support.isolated import Deployment, deployment, migrated_database_url
from tests.support.messaging import admin_token, error_of, wait_until
from tests.support.server import Server, run_cli

AREA = "248"  # the area code this module buys from (no other module reads 248)
OFF_NET = "13125550123"
OUTSIDE = "13125550188"


def admin(server: Server) -> dict[str, str]:
    return {"Authorization": f"Bearer {admin_token(server)}"}


def create(server: Server, **body: Any) -> httpx.Response:
    return loopback.post(f"{server.url}/sandbox/accounts", json=body, headers=admin(server), timeout=30)


def new(server: Server, numbers: int = 1, **body: Any) -> dict[str, Any]:
    response = create(server, numbers=numbers, **({"area_code": AREA} if numbers else {}), **body)
    assert response.status_code == 201, response.text
    attributes: dict[str, Any] = response.json()["data"]["attributes"]
    return attributes


def keys_of(account: dict[str, Any]) -> tuple[str, str]:
    return account["access_key"], account["secret_key"]


@pytest.fixture
def account(server: Server) -> Iterator[dict[str, Any]]:
    created = new(server)
    yield created
    loopback.delete(f"{server.url}/sandbox/accounts/{created['access_key']}", headers=admin(server), timeout=30)


@pytest.fixture
def api(server: Server, account: dict[str, Any]) -> Iterator[httpx.Client]:
    with server.client(keys_of(account)) as client:
        yield client


def send(api: httpx.Client, sender: str, body: str, to: str = OFF_NET) -> str:
    response = api.post("/v2.1/messages", json={"to": to, "from": sender, "body": body})
    assert response.status_code == 202, response.text
    return str(response.json()["data"]["id"])


def inject(server: Server, to: str, body: str, sender: str = OUTSIDE) -> str:
    response = loopback.post(
        f"{server.url}/sandbox/inbound", json={"from": sender, "to": to, "body": body}, headers=admin(server)
    )
    assert response.status_code == 202, response.text
    return str(response.json()["data"]["id"])


def search(api: httpx.Client, **params: Any) -> list[dict[str, Any]]:
    response = api.get("/sandbox/messages", params=params)
    assert response.status_code == 200, response.text
    data: list[dict[str, Any]] = response.json()["data"]
    return data


def available(server: Server, value: str) -> bool:
    rows = Deployment(server.data_dir, database_url_for(server.data_dir)).query(
        "SELECT account_id FROM numbers WHERE value = :value", {"value": value}
    )
    return rows == [{"account_id": None}]


# --- accounts -------------------------------------------------------------------------------------


def test_an_account_comes_with_keys_numbers_and_callbacks(server: Server) -> None:
    hook = "http://127.0.0.1:9/telroute"
    response = create(
        server,
        name="checkout-tests",
        numbers=2,
        area_code=AREA,
        callbacks={"sms_callback": f"{hook}/in", "sms_dlr_callback": f"{hook}/dlr"},
    )
    assert response.status_code == 201, response.text
    assert response.headers["content-type"] == "application/vnd.api+json"
    data = response.json()["data"]
    attributes = data["attributes"]
    assert data["type"] == "sandbox_account" and data["id"] == attributes["access_key"]
    assert data["links"]["self"] == f"{server.url}/sandbox/accounts/{attributes['access_key']}"
    assert attributes["name"] == "checkout-tests"
    assert attributes["callbacks"] == {"sms_callback": f"{hook}/in", "sms_dlr_callback": f"{hook}/dlr"}
    assert len(attributes["numbers"]) == 2 and all(number.startswith("1" + AREA) for number in attributes["numbers"])
    with server.client(keys_of(attributes)) as api:
        owned = api.get("/v2/numbers").json()["data"]
    assert sorted(item["id"] for item in owned) == sorted(attributes["numbers"])
    stored = Deployment(server.data_dir, database_url_for(server.data_dir)).query(
        "SELECT sms_callback, sms_dlr_callback, mms_callback FROM accounts WHERE access_key = :key",
        {"key": attributes["access_key"]},
    )
    assert stored == [{"sms_callback": f"{hook}/in", "sms_dlr_callback": f"{hook}/dlr", "mms_callback": None}]


def test_accounts_created_together_get_numbers_of_their_own(server: Server) -> None:
    with ThreadPoolExecutor(max_workers=8) as pool:
        created = list(pool.map(lambda _: new(server, numbers=2), range(8)))
    numbers = [number for account in created for number in account["numbers"]]
    assert len(numbers) == 16 and len(set(numbers)) == 16
    assert len({account["access_key"] for account in created}) == 8


def test_specific_numbers_are_bought_and_an_empty_body_makes_a_bare_account(server: Server) -> None:
    bare = loopback.post(f"{server.url}/sandbox/accounts", headers=admin(server), timeout=30)
    assert bare.status_code == 201, bare.text
    attributes = bare.json()["data"]["attributes"]
    assert attributes["numbers"] == [] and attributes["name"] == "sandbox"
    with server.client(keys_of(attributes)) as api:
        found = api.get("/v2/numbers/available", params={"starts_with": "1" + AREA, "limit": 2}).json()["data"]
    wanted = [f"+{found[0]['id']}", found[1]["id"][1:]]  # any spelling the API accepts
    chosen = create(server, numbers=wanted)
    assert chosen.status_code == 201, chosen.text
    assert chosen.json()["data"]["attributes"]["numbers"] == [found[0]["id"], found[1]["id"]]


def test_bad_account_requests_are_refused_and_change_nothing(server: Server) -> None:
    probe = new(server, numbers=0)
    with server.client(keys_of(probe)) as api:
        first = api.get("/v2/numbers/available", params={"starts_with": "1" + AREA, "limit": 1}).json()["data"][0]["id"]
    accounts_before = Deployment(server.data_dir, database_url_for(server.data_dir)).query(
        "SELECT COUNT(*) AS n FROM accounts"
    )
    cases: list[tuple[dict[str, Any], int, str]] = [
        ({"numbers": ["12"]}, 400, "/numbers/0"),
        ({"numbers": 11}, 422, "/numbers"),
        ({"numbers": -1}, 422, "/numbers"),
        ({"numbers": "two"}, 400, "/numbers"),
        ({"numbers": [first, first]}, 422, "/numbers"),
        ({"numbers": [first, "19995550100"]}, 422, "/numbers/1"),  # the first would be bought: rolled back
        ({"numbers": 1, "area_code": "048"}, 400, "/area_code"),
        ({"area_code": AREA}, 422, "/area_code"),
        ({"numbers": 1, "area_code": "999"}, 422, "/numbers"),
        ({"name": ""}, 400, "/name"),
        ({"callbacks": {"sms_calback": "https://example.com/x"}}, 400, "/callbacks/sms_calback"),
        ({"callbacks": {"sms_callback": "not a url"}}, 400, "/callbacks/sms_callback"),
        ({"callbacks": {"sms_callback": "ftp://example.com/x"}}, 400, "/callbacks/sms_callback"),
        ({"callbacks": []}, 400, "/callbacks"),
    ]
    for body, status, pointer in cases:
        error = error_of(create(server, **body), status)
        assert error["source"] == {"pointer": pointer}, (body, error)
    jsonapi = {"data": {"type": "sandbox_account", "attributes": {"numbers": ["12"]}}}
    refused = loopback.post(f"{server.url}/sandbox/accounts", json=jsonapi, headers=admin(server), timeout=30)
    assert error_of(refused, 400)["source"] == {"pointer": "/data/attributes/numbers/0"}
    not_json = loopback.post(f"{server.url}/sandbox/accounts", content=b"{", headers=admin(server), timeout=30)
    assert error_of(not_json, 400)
    assert available(server, first)
    accounts_after = Deployment(server.data_dir, database_url_for(server.data_dir)).query(
        "SELECT COUNT(*) AS n FROM accounts"
    )
    assert accounts_after == accounts_before


def test_admin_and_account_credentials_are_not_interchangeable(server: Server, account: dict[str, Any]) -> None:
    keys = keys_of(account)
    url = server.url
    assert error_of(loopback.post(f"{url}/sandbox/accounts", json={}), 401)
    assert error_of(loopback.post(f"{url}/sandbox/accounts", json={}, headers={"Authorization": "Bearer x"}), 401)
    assert error_of(loopback.post(f"{url}/sandbox/accounts", json={}, auth=keys), 401)
    assert error_of(loopback.delete(f"{url}/sandbox/accounts/{keys[0]}", auth=keys), 401)
    for method, path in (("GET", "/sandbox/messages"), ("GET", "/sandbox/messages/wait"), ("POST", "/sandbox/reset")):
        assert error_of(loopback.request(method, f"{url}{path}", headers=admin(server)), 401)
        assert error_of(loopback.request(method, f"{url}{path}", auth=(keys[0], keys[1] + "x")), 401)
    with server.client(keys) as api:  # still there, untouched
        assert api.get("/v2/numbers").json()["data"][0]["id"] == account["numbers"][0]


def test_deleting_an_account_removes_all_its_data_and_returns_its_numbers(server: Server) -> None:
    doomed = new(server, callbacks={"sms_dlr_callback": "http://127.0.0.1:9/dlr"})
    keeper = new(server)
    doomed_number, keeper_number = doomed["numbers"][0], keeper["numbers"][0]
    with server.client(keys_of(doomed)) as api:
        api.post("/v2/routes", json={"route_type": "host", "value": "sip.example", "alias": "r"})
        send(api, doomed_number, "to the world, code 4821")
        send(api, doomed_number, "on-net to the keeper", to=keeper_number)
    inject(server, doomed_number, "hello doomed")
    with server.client(keys_of(keeper)) as api:
        send(api, keeper_number, "keeper's own")
        wait_until(lambda: len(search(api)) == 2, timeout=20, what="the keeper's two messages")
    deployed = Deployment(server.data_dir, database_url_for(server.data_dir))
    account_id = deployed.query("SELECT id FROM accounts WHERE access_key = :key", {"key": doomed["access_key"]})[0][
        "id"
    ]
    wait_until(
        lambda: deployed.query("SELECT COUNT(*) AS n FROM webhook_attempts WHERE account_id = :a", {"a": account_id})[
            0
        ]["n"],
        timeout=20,
        what="a refused DLR attempt of the doomed account",
    )
    deleted = loopback.delete(f"{server.url}/sandbox/accounts/{doomed['access_key']}", headers=admin(server))
    assert deleted.status_code == 204, deleted.text
    for table in ("messages", "media", "webhook_attempts", "webhook_dead_letters", "idempotency_keys", "routes"):
        rows = deployed.query(f"SELECT COUNT(*) AS n FROM {table} WHERE account_id = :a", {"a": account_id})
        assert rows == [{"n": 0}], table
    jobs = deployed.query("SELECT payload FROM jobs UNION ALL SELECT payload FROM failed_jobs")
    assert not [job for job in jobs if json.loads(job["payload"]).get("account_id") == account_id]
    assert deployed.query("SELECT COUNT(*) AS n FROM accounts WHERE id = :a", {"a": account_id}) == [{"n": 0}]
    assert available(server, doomed_number)
    with server.client(keys_of(doomed)) as gone:
        assert error_of(gone.get("/v2/numbers"), 401)
    with server.client(keys_of(keeper)) as api:  # the keeper keeps everything, the on-net copy included
        bodies = {item["attributes"]["body"] for item in search(api)}
    assert bodies == {"keeper's own", "on-net to the keeper"}
    again = loopback.delete(f"{server.url}/sandbox/accounts/{doomed['access_key']}", headers=admin(server))
    assert error_of(again, 404)


# --- searching ------------------------------------------------------------------------------------


def test_search_filters_pages_and_finds_codes(server: Server, account: dict[str, Any], api: httpx.Client) -> None:
    number = account["numbers"][0]
    start = datetime.now(UTC).isoformat()
    send(api, number, "Your code is 482 913. It expires soon.")
    send(api, number, "Order 55 shipped; call 206-555-1234", to=OUTSIDE)
    inject(server, number, "reply STOP, or use 7301-2291 or 99887766")
    newest = search(api)
    assert [item["attributes"]["body"][:10] for item in newest] == ["reply STOP", "Order 55 s", "Your code "]
    assert [item["attributes"]["codes"] for item in newest] == [["73012291", "99887766"], [], ["482913"]]
    assert newest[0]["links"]["self"] == f"{server.url}/v2.1/messages/{newest[0]['id']}"
    assert [item["attributes"]["direction"] for item in search(api, direction="inbound")] == ["inbound"]
    assert len(search(api, direction="outbound")) == 2
    assert len(search(api, to=OUTSIDE)) == 1
    assert len(search(api, to=f"+{OUTSIDE}")) == 1
    assert len(search(api, **{"from": OUTSIDE})) == 1
    assert len(search(api, **{"from": number[1:]})) == 2
    assert len(search(api, contains="CODE IS")) == 1
    assert search(api, contains="nothing like this") == []
    assert len(search(api, after=start)) == 3
    assert search(api, before=start) == []
    assert len(search(api, status="delivered", direction="inbound")) == 1
    page = api.get("/sandbox/messages", params={"limit": 2, "direction": "outbound", "to": OFF_NET}).json()
    assert len(page["data"]) == 1 and "next" not in page["links"]
    first = api.get("/sandbox/messages", params={"limit": 2}).json()
    assert len(first["data"]) == 2
    assert first["links"]["self"] == f"{server.url}/sandbox/messages?limit=2&offset=0"
    second = loopback.get(first["links"]["next"], auth=keys_of(account)).json()
    assert [item["id"] for item in second["data"]] == [newest[2]["id"]] and "next" not in second["links"]
    filtered = api.get("/sandbox/messages", params={"limit": 1, "direction": "outbound", "contains": "a b"}).json()
    assert filtered["links"]["self"].endswith("?contains=a%20b&direction=outbound&limit=1&offset=0")


@pytest.mark.parametrize(
    ("params", "status", "parameter"),
    [
        ({"direction": "sideways"}, 400, "direction"),
        ({"status": "lost"}, 400, "status"),
        ({"to": "12"}, 400, "to"),
        ({"from": "1206555123x"}, 400, "from"),
        ({"after": "yesterday"}, 400, "after"),
        ({"after": "2026-01-02", "before": "2026-01-01"}, 422, "before"),
        ({"contains": "x" * 201}, 422, "contains"),
        ({"limit": "0"}, 400, "limit"),
        ({"offset": "-1"}, 400, "offset"),
        ({"form": OUTSIDE}, 400, "form"),
        ({"timeout": "5"}, 400, "timeout"),  # a search does not wait
    ],
)
def test_bad_search_parameters_are_pointed_at(
    api: httpx.Client, params: dict[str, str], status: int, parameter: str
) -> None:
    assert error_of(api.get("/sandbox/messages", params=params), status)["source"] == {"parameter": parameter}


# --- waiting --------------------------------------------------------------------------------------


def test_wait_answers_at_once_when_a_message_matches(account: dict[str, Any], api: httpx.Client) -> None:
    send(api, account["numbers"][0], "Your verification code: 123456")
    started = time.monotonic()
    found = api.get("/sandbox/messages/wait", params={"to": OFF_NET, "timeout": 5})
    assert found.status_code == 200, found.text
    assert time.monotonic() - started < 2
    assert found.json()["data"]["attributes"]["codes"] == ["123456"]


def test_wait_wakes_up_when_the_message_is_written(server: Server, account: dict[str, Any], api: httpx.Client) -> None:
    number = account["numbers"][0]
    send(api, number, "an older one, code 1111")
    after = datetime.now(UTC).isoformat()
    timer = threading.Timer(0.7, lambda: inject(server, number, "late code 2222"))
    timer.start()
    started = time.monotonic()
    try:
        found = api.get("/sandbox/messages/wait", params={"direction": "inbound", "after": after, "timeout": 10})
    finally:
        timer.join()
    waited = time.monotonic() - started
    assert found.status_code == 200, found.text
    assert found.json()["data"]["attributes"]["codes"] == ["2222"]
    assert 0.6 < waited < 3, waited


def test_wait_finds_a_message_another_process_wrote(account: dict[str, Any], api: httpx.Client, server: Server) -> None:
    """No commit of the server's own wakes it: the periodic re-check finds the CLI's message."""
    after = datetime.now(UTC).isoformat()
    body = {"from": OUTSIDE, "to": account["numbers"][0], "body": "from the CLI, code 31337"}
    writer = threading.Thread(
        target=lambda: run_cli(
            server.data_dir, "simulate", "inbound", "--from", body["from"], "--to", body["to"], "--body", body["body"]
        )
    )
    writer.start()
    try:
        found = api.get("/sandbox/messages/wait", params={"after": after, "contains": "31337", "timeout": 30})
    finally:
        writer.join()
    assert found.status_code == 200, found.text
    assert found.json()["data"]["attributes"]["codes"] == ["31337"]


def test_wait_times_out_with_408_naming_the_filters_and_what_arrived(
    account: dict[str, Any], api: httpx.Client
) -> None:
    send(api, account["numbers"][0], "something else entirely")
    started = time.monotonic()
    response = api.get("/sandbox/messages/wait", params={"direction": "inbound", "contains": "otp", "timeout": "1.5"})
    assert 1.4 < time.monotonic() - started < 4
    error = error_of(response, 408)
    assert error["code"] == "wait_timed_out"
    assert "direction='inbound'" in error["detail"] and "contains='otp'" in error["detail"]
    assert "within 1.5 s" in error["detail"]
    assert "something else entirely" in error["detail"]


def test_wait_of_zero_checks_once(api: httpx.Client) -> None:
    started = time.monotonic()
    error = error_of(api.get("/sandbox/messages/wait", params={"timeout": 0}), 408)
    assert time.monotonic() - started < 1
    assert "the account has no messages" in error["detail"]


@pytest.mark.parametrize(
    ("timeout", "status"),
    [("soon", 400), ("nan", 400), ("inf", 400), ("61", 422), ("-1", 422), ("1e3", 422)],
)
def test_bad_timeouts_are_refused(api: httpx.Client, timeout: str, status: int) -> None:
    started = time.monotonic()
    error = error_of(api.get("/sandbox/messages/wait", params={"timeout": timeout}), status)
    assert error["source"] == {"parameter": "timeout"}
    assert time.monotonic() - started < 1


def test_bad_wait_filters_are_refused(api: httpx.Client) -> None:
    error = error_of(api.get("/sandbox/messages/wait", params={"direction": "sideways"}), 400)
    assert error["source"] == {"parameter": "direction"}
    assert error_of(api.get("/sandbox/messages/wait", params={"limit": "5"}), 400)["source"] == {"parameter": "limit"}


# --- reset ----------------------------------------------------------------------------------------


def test_reset_forgets_messages_and_keeps_account_numbers_and_callbacks(server: Server) -> None:
    hook = "http://127.0.0.1:9/telroute/dlr"
    account = new(server, callbacks={"sms_dlr_callback": hook})
    number = account["numbers"][0]
    deployed = Deployment(server.data_dir, database_url_for(server.data_dir))
    account_id = deployed.query("SELECT id FROM accounts WHERE access_key = :key", {"key": account["access_key"]})[0][
        "id"
    ]
    with server.client(keys_of(account)) as api:
        send(api, number, "before the reset, 5555")
        inject(server, number, "inbound before the reset")
        wait_until(
            lambda: deployed.query(
                "SELECT COUNT(*) AS n FROM webhook_attempts WHERE account_id = :a", {"a": account_id}
            )[0]["n"],
            timeout=20,
            what="a refused DLR attempt",
        )
        message_ids = [
            row["id"] for row in deployed.query("SELECT id FROM messages WHERE account_id = :a", {"a": account_id})
        ]
        reset = api.post("/sandbox/reset")
        assert reset.status_code == 204, reset.text
        assert search(api) == []
        for table in ("messages", "media", "webhook_attempts", "webhook_dead_letters"):
            rows = deployed.query(f"SELECT COUNT(*) AS n FROM {table} WHERE account_id = :a", {"a": account_id})
            assert rows == [{"n": 0}], table
        jobs = deployed.query("SELECT payload FROM jobs UNION ALL SELECT payload FROM failed_jobs")
        for job in jobs:
            payload = json.loads(job["payload"])
            assert payload.get("account_id") != account_id, job
            assert payload.get("message_id") not in message_ids, job
        assert [item["id"] for item in api.get("/v2/numbers").json()["data"]] == [number]
        stored = deployed.query("SELECT sms_dlr_callback FROM accounts WHERE id = :a", {"a": account_id})
        assert stored == [{"sms_dlr_callback": hook}]
        send(api, number, "after the reset, 6666")
        found = api.get("/sandbox/messages/wait", params={"timeout": 5})
        assert found.json()["data"]["attributes"]["codes"] == ["6666"]
        assert len(search(api)) == 1


# --- isolation ------------------------------------------------------------------------------------


def test_an_account_sees_waits_on_and_resets_only_its_own(server: Server) -> None:
    a, b = new(server), new(server)
    tag = uuid.uuid4().hex[:8]
    with server.client(keys_of(b)) as b_api:
        send(b_api, b["numbers"][0], f"b's secret {tag} 8080")
    inject(server, b["numbers"][0], f"to b {tag}")
    with server.client(keys_of(a)) as a_api:
        assert search(a_api) == []
        assert search(a_api, to=b["numbers"][0]) == []
        assert search(a_api, contains=tag) == []
        waited = a_api.get("/sandbox/messages/wait", params={"contains": tag, "timeout": 0.5})
        assert tag not in error_of(waited, 408)["detail"].replace(f"contains={tag!r}", "")
        assert a_api.post("/sandbox/reset").status_code == 204
    with server.client(keys_of(b)) as b_api:
        assert len(search(b_api, contains=tag)) == 2


def test_callbacks_obey_the_address_policy(tmp_path_factory: pytest.TempPathFactory) -> None:
    data_dir = tmp_path_factory.mktemp("sandbox-public-only")
    with deployment(data_dir) as deployed:
        strict = deployed.in_process_server(TELROUTE_ALLOW_PRIVATE_TARGETS="false").start()
        try:
            for host in ("127.0.0.1", "10.1.2.3", "[::1]", "169.254.169.254"):
                body = {"numbers": 0, "callbacks": {"sms_dlr_callback": f"http://{host}:8080/dlr"}}
                refused = loopback.post(f"{strict.url}/sandbox/accounts", json=body, headers=admin(strict), timeout=30)
                error = error_of(refused, 422)
                assert error["source"] == {"pointer": "/callbacks/sms_dlr_callback"}, error
            public = {"callbacks": {"sms_dlr_callback": "https://example.com/dlr", "mms_callback": None}}
            created = loopback.post(f"{strict.url}/sandbox/accounts", json=public, headers=admin(strict), timeout=30)
            assert created.status_code == 201, created.text
            assert created.json()["data"]["attributes"]["callbacks"] == {"sms_dlr_callback": "https://example.com/dlr"}
        finally:
            strict.terminate()


# --- production -----------------------------------------------------------------------------------


def test_production_serves_no_sandbox_path(tmp_path_factory: pytest.TempPathFactory) -> None:
    data_dir = tmp_path_factory.mktemp("production-sandbox")
    with migrated_database_url(data_dir) as url:
        env = {"TELROUTE_DATABASE_URL": url, "TELROUTE_ADMIN_TOKEN": "a-token-that-is-set"}
        production = InProcessServer(data_dir, env_extra={**env, "TELROUTE_PROFILE": "production"}).start()
        try:
            bearer = {"Authorization": "Bearer a-token-that-is-set"}
            for method, path in (
                ("POST", "/sandbox/accounts"),
                ("DELETE", "/sandbox/accounts/some-key"),
                ("GET", "/sandbox/messages"),
                ("GET", "/sandbox/messages/wait"),
                ("POST", "/sandbox/reset"),
                ("POST", "/sandbox/inbound"),
                ("GET", "/sandbox/callbacks"),
                ("GET", "/sandbox/callbacks/wait"),
                ("GET", "/sandbox/clock"),
                ("POST", "/sandbox/clock/advance"),
            ):
                response = loopback.request(method, f"{production.url}{path}", headers=bearer, json={}, timeout=10)
                error = error_of(response, 404)
                assert error["detail"] == f"no such resource: {path}"
            paths = loopback.get(f"{production.url}/openapi.json", timeout=10).json()["paths"]
            assert "/sandbox/accounts" in paths  # one document for both profiles; the summaries say so
        finally:
            production.terminate()
