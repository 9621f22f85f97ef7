"""Sandbox faults on demand, over real sockets against a real `telroute serve`: delivery rules by number and
prefix (over the digit rules), receipt delays, counts, shares and expiry; API chaos (429, 500, 503, slow) for
the next N calls; isolation between accounts; bad rules refused with pointers; no such path in production."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.support import loopback
from tests.support.inprocess import InProcessServer
from tests.support.isolated import migrated_database_url
from tests.support.messaging import admin_token, error_of, wait_for_status
from tests.support.server import Server

AREA = "262"  # the area code this module buys from (no other module reads 262)


def _new_account(server: Server) -> dict[str, Any]:
    body = {"numbers": 1, "area_code": AREA}
    headers = {"Authorization": f"Bearer {admin_token(server)}"}
    response = loopback.post(f"{server.url}/sandbox/accounts", json=body, headers=headers, timeout=30)
    assert response.status_code == 201, response.text
    attributes: dict[str, Any] = response.json()["data"]["attributes"]
    return attributes


def _delete_account(server: Server, account: dict[str, Any]) -> None:
    headers = {"Authorization": f"Bearer {admin_token(server)}"}
    loopback.delete(f"{server.url}/sandbox/accounts/{account['access_key']}", headers=headers, timeout=30)


@pytest.fixture
def account(server: Server) -> Iterator[dict[str, Any]]:
    created = _new_account(server)
    yield created
    _delete_account(server, created)


@pytest.fixture
def api(server: Server, account: dict[str, Any]) -> Iterator[httpx.Client]:
    with server.client((account["access_key"], account["secret_key"])) as client:
        yield client


def add_rule(api: httpx.Client, **attributes: Any) -> dict[str, Any]:
    response = api.post("/sandbox/faults", json=attributes)
    assert response.status_code == 201, response.text
    assert response.headers["content-type"] == "application/vnd.api+json"
    data: dict[str, Any] = response.json()["data"]
    return data


def rules(api: httpx.Client) -> list[dict[str, Any]]:
    response = api.get("/sandbox/faults")
    assert response.status_code == 200, response.text
    data: list[dict[str, Any]] = response.json()["data"]
    return data


def send(api: httpx.Client, account: dict[str, Any], to: str) -> str:
    body = {"to": to, "from": account["numbers"][0], "body": "fault test"}
    response = api.post("/v2.1/messages", json=body)
    assert response.status_code == 202, response.text
    return str(response.json()["data"]["id"])


def final_receipt(attributes: dict[str, Any]) -> dict[str, Any]:
    """The level-2 receipt (a refusal at submit has no level 1)."""
    [receipt] = [receipt for receipt in attributes["delivery_receipts"] if receipt["level"] == 2]
    assert isinstance(receipt, dict)
    return receipt


# --- delivery rules -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("outcome", "status", "code"),
    [
        ("delivered", "delivered", 1000),  # over the digit rule of ...0001 (undelivered)
        ("undelivered", "undelivered", 1100),
        ("expired", "expired", 1101),
        ("rejected", "rejected", 1102),
    ],
)
def test_a_rule_for_a_number_decides_its_outcome_over_the_digit_rules(
    api: httpx.Client, account: dict[str, Any], outcome: str, status: str, code: int
) -> None:
    to = "13125550001"
    add_rule(api, kind="delivery", match=f"+{to}", outcome=outcome)
    attributes = wait_for_status(api, send(api, account, to), status)
    assert final_receipt(attributes)["status_code"] == code


def test_no_receipt_leaves_the_message_submitted(api: httpx.Client, account: dict[str, Any]) -> None:
    to = "13125550150"
    add_rule(api, kind="delivery", match=to, outcome="no_receipt")
    message_id = send(api, account, to)
    wait_for_status(api, message_id, "smsc submit", receipts=1)
    time.sleep(1.0)
    wait_for_status(api, message_id, "smsc submit", receipts=1, timeout=0.5)


def test_the_longest_prefix_wins_and_codes_can_be_forced(api: httpx.Client, account: dict[str, Any]) -> None:
    add_rule(api, kind="delivery", match="1312555", outcome="undelivered")
    add_rule(api, kind="delivery", match="13125551", outcome="undelivered", status_code=1150, description="Handset off")
    broad = wait_for_status(api, send(api, account, "13125559876"), "undelivered")
    assert final_receipt(broad)["status_code"] == 1100
    narrow = wait_for_status(api, send(api, account, "13125551234"), "undelivered")
    receipt = final_receipt(narrow)
    assert (receipt["status_code"], receipt["status_code_description"]) == (1150, "Handset off")


def test_a_receipt_delay_holds_the_final_receipt_back(api: httpx.Client, account: dict[str, Any]) -> None:
    to = "13125550160"
    add_rule(api, kind="delivery", match=to, outcome="delivered", receipt_delay=2)
    started = time.monotonic()
    message_id = send(api, account, to)
    wait_for_status(api, message_id, "smsc submit", receipts=1)
    wait_for_status(api, message_id, "delivered", timeout=15)
    assert time.monotonic() - started >= 2.0


def test_a_counted_rule_runs_out_and_the_digit_rules_apply_again(api: httpx.Client, account: dict[str, Any]) -> None:
    to = "13125550001"  # the digit rules: undelivered
    rule = add_rule(api, kind="delivery", match=to, outcome="delivered", count=1)
    assert rule["attributes"]["remaining"] == 1
    wait_for_status(api, send(api, account, to), "delivered")
    wait_for_status(api, send(api, account, to), "undelivered")
    [listed] = rules(api)
    assert listed["attributes"]["remaining"] == 0


def test_an_expired_rule_no_longer_applies(api: httpx.Client, account: dict[str, Any]) -> None:
    to = "13125550002"  # the digit rules: expired
    created = time.monotonic()
    rule = add_rule(api, kind="delivery", match=to, outcome="delivered", expires_in=4)
    assert rule["attributes"]["expires_at"] is not None
    wait_for_status(api, send(api, account, to), "delivered")
    time.sleep(max(0.0, 4.1 - (time.monotonic() - created)))
    wait_for_status(api, send(api, account, to), "expired")


def test_a_share_of_one_always_applies_and_of_zero_never(api: httpx.Client, account: dict[str, Any]) -> None:
    add_rule(api, kind="delivery", match="13125550170", outcome="undelivered", share=1.0)
    add_rule(api, kind="delivery", match="13125550171", outcome="undelivered", share=0.0, count=5)
    for _ in range(2):
        wait_for_status(api, send(api, account, "13125550170"), "undelivered")
        wait_for_status(api, send(api, account, "13125550171"), "delivered")
    remaining = {rule["attributes"]["match"]: rule["attributes"]["remaining"] for rule in rules(api)}
    assert remaining["13125550171"] == 5  # a use the share leaves out is not counted


# --- API chaos ------------------------------------------------------------------------------------


@pytest.mark.parametrize("status", [429, 500, 503])
def test_api_errors_for_the_next_calls_then_normal(api: httpx.Client, status: int) -> None:
    add_rule(api, kind="api", match="GET /v2/numbers", outcome=status, delay=7, count=2)
    for _ in range(2):
        error = error_of(api.get("/v2/numbers"), status)
        assert error["code"] == "sandbox_fault"
    assert api.get("/v2/numbers").status_code == 200
    assert api.get("/v2/numbers").status_code == 200


def test_a_429_says_when_to_retry(api: httpx.Client) -> None:
    add_rule(api, kind="api", match="*", outcome=429, delay=7, count=1)
    response = api.get("/v2/numbers")
    error_of(response, 429)
    assert response.headers["Retry-After"] == "7"


def test_a_slow_rule_delays_the_call_then_calls_are_fast_again(api: httpx.Client) -> None:
    add_rule(api, kind="api", match="*", outcome="slow", delay=1.5, count=1)
    started = time.monotonic()
    assert api.get("/v2/numbers").status_code == 200
    assert time.monotonic() - started >= 1.5
    started = time.monotonic()
    assert api.get("/v2/numbers").status_code == 200
    assert time.monotonic() - started < 1.0


def test_api_rules_match_by_method_and_path_and_spare_the_sandbox_paths(
    api: httpx.Client, account: dict[str, Any]
) -> None:
    add_rule(api, kind="api", match="POST /v2.1/messages", outcome=503)
    assert api.get("/v2/numbers").status_code == 200
    error_of(api.post("/v2.1/messages", json={"to": "13125550180", "from": account["numbers"][0], "body": "x"}), 503)
    add_rule(api, kind="api", match="*", outcome=500)
    error_of(api.get("/v2/numbers"), 500)
    assert len(rules(api)) == 2  # /sandbox/ itself is never faulted, so the rules can be removed
    for rule in rules(api):
        assert api.delete(f"/sandbox/faults/{rule['id']}").status_code == 204
    assert api.get("/v2/numbers").status_code == 200


def test_api_shares_of_one_and_zero(api: httpx.Client) -> None:
    rule = add_rule(api, kind="api", match="*", outcome=500, share=0.0)
    for _ in range(3):
        assert api.get("/v2/numbers").status_code == 200
    assert api.delete(f"/sandbox/faults/{rule['id']}").status_code == 204
    add_rule(api, kind="api", match="*", outcome=500, share=1.0)
    for _ in range(3):
        error_of(api.get("/v2/numbers"), 500)


# --- ownership, reset, bad input, production ------------------------------------------------------


def test_an_account_neither_sees_nor_suffers_anothers_rules(server: Server, api: httpx.Client) -> None:
    rule = add_rule(api, kind="api", match="*", outcome=500)
    add_rule(api, kind="delivery", match="13125550190", outcome="undelivered")
    other = _new_account(server)
    try:
        with server.client((other["access_key"], other["secret_key"])) as client:
            assert client.get("/v2/numbers").status_code == 200
            assert rules(client) == []
            error_of(client.delete(f"/sandbox/faults/{rule['id']}"), 404)
            wait_for_status(client, send(client, other, "13125550190"), "delivered")
        assert len(rules(api)) == 2
    finally:
        _delete_account(server, other)


def test_reset_clears_the_rules(api: httpx.Client) -> None:
    add_rule(api, kind="api", match="*", outcome=500)
    assert api.post("/sandbox/reset").status_code == 204
    assert rules(api) == []
    assert api.get("/v2/numbers").status_code == 200


def test_deleting_an_unknown_rule_is_404(api: httpx.Client) -> None:
    for fault_id in ("999999999", "abc", "-1"):
        error_of(api.delete(f"/sandbox/faults/{fault_id}"), 404)


@pytest.mark.parametrize(
    ("body", "pointer"),
    [
        ({"kind": "chaos", "match": "1312", "outcome": "undelivered"}, "/kind"),
        ({"kind": "delivery", "match": "13x12", "outcome": "undelivered"}, "/match"),
        ({"kind": "delivery", "match": "", "outcome": "undelivered"}, "/match"),
        ({"kind": "delivery", "match": "1312", "outcome": "lost"}, "/outcome"),
        ({"kind": "delivery", "match": "1312", "outcome": "undelivered", "share": 1.5}, "/share"),
        ({"kind": "delivery", "match": "1312", "outcome": "undelivered", "share": -0.1}, "/share"),
        ({"kind": "delivery", "match": "1312", "outcome": "undelivered", "count": -1}, "/count"),
        ({"kind": "delivery", "match": "1312", "outcome": "undelivered", "count": 0}, "/count"),
        ({"kind": "delivery", "match": "1312", "outcome": "delivered", "receipt_delay": -1}, "/receipt_delay"),
        ({"kind": "delivery", "match": "1312", "outcome": "rejected", "receipt_delay": 1}, "/receipt_delay"),
        ({"kind": "delivery", "match": "1312", "outcome": "undelivered", "status_code": 42}, "/status_code"),
        ({"kind": "delivery", "match": "1312", "outcome": "undelivered", "expires_in": -5}, "/expires_in"),
        ({"kind": "api", "match": "*", "outcome": 404}, "/outcome"),
        ({"kind": "api", "match": "GET /elsewhere", "outcome": 500}, "/match"),
        ({"kind": "api", "match": "*", "outcome": "slow"}, "/delay"),
        ({"kind": "api", "match": "*", "outcome": "slow", "delay": -2}, "/delay"),
        (
            {"data": {"type": "sandbox_fault", "attributes": {"kind": "api", "outcome": 418}}},
            "/data/attributes/outcome",
        ),
    ],
)
def test_bad_rules_are_refused_with_a_pointer_and_change_nothing(
    api: httpx.Client, body: dict[str, Any], pointer: str
) -> None:
    error = error_of(api.post("/sandbox/faults", json=body), 422)
    assert error["source"] == {"pointer": pointer}, error
    assert rules(api) == []


def test_a_jsonapi_body_is_accepted(api: httpx.Client) -> None:
    body = {"data": {"type": "sandbox_fault", "attributes": {"kind": "api", "match": "*", "outcome": 503, "count": 1}}}
    response = api.post("/sandbox/faults", json=body)
    assert response.status_code == 201, response.text
    attributes = response.json()["data"]["attributes"]
    assert (attributes["outcome"], attributes["remaining"], attributes["share"]) == (503, 1, None)


def test_rules_need_account_credentials(server: Server) -> None:
    error_of(loopback.get(f"{server.url}/sandbox/faults", timeout=10), 401)
    error_of(loopback.post(f"{server.url}/sandbox/faults", json={}, timeout=10), 401)


def test_production_serves_no_faults(tmp_path_factory: pytest.TempPathFactory) -> None:
    data_dir = tmp_path_factory.mktemp("production-faults")
    with migrated_database_url(data_dir) as url:
        env = {"TELROUTE_DATABASE_URL": url, "TELROUTE_ADMIN_TOKEN": "a-token-that-is-set"}
        production = InProcessServer(data_dir, env_extra={**env, "TELROUTE_PROFILE": "production"}).start()
        try:
            for method, path in (
                ("POST", "/sandbox/faults"),
                ("GET", "/sandbox/faults"),
                ("DELETE", "/sandbox/faults/1"),
            ):
                response = loopback.request(method, f"{production.url}{path}", json={}, timeout=10)
                assert error_of(response, 404)["detail"] == f"no such resource: {path}"
        finally:
            production.terminate()
