"""The deployment's virtual clock, over real sockets against a `telroute serve` of its own (moving its clock
moves every account's): a receipt delay of an hour and a callback's retry backoff run their course right
after an advance, without sleeping; idempotency keys expire on it, a send rate limit clears on it and fault
rules expire on it; timestamps follow the clock; other processes (an API process, a worker) follow the
stored offset; bad advances are refused with a pointer and change nothing; account keys are no admin
token."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from telroute.kit.clock import parse_date, system_clock
from telroute.sandbox_client import SandboxAccount, SandboxAdmin, SandboxError
from tests.support import loopback
from tests.support.callback_receiver import CallbackReceiver
from tests.support.isolated import Deployment, api_only, deployment, eventually
from tests.support.messaging import error_of, wait_for_status
from tests.support.server import Server
from tests.support.worker import WorkerProcess

AREA = "270"  # the area code this module buys from (its own deployment, too)
HOUR = 3600.0


@pytest.fixture(scope="module")
def deployed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Deployment]:
    with deployment(tmp_path_factory.mktemp("clock")) as own:
        yield own


@pytest.fixture(scope="module")
def server(deployed: Deployment) -> Iterator[Server]:
    running = deployed.server().start()
    yield running
    running.terminate()


@pytest.fixture(scope="module")
def admin(server: Server, deployed: Deployment) -> SandboxAdmin:
    return SandboxAdmin(server.url, deployed.admin_token())


@pytest.fixture(scope="module")
def receiver() -> Iterator[CallbackReceiver]:
    with CallbackReceiver() as running:
        yield running


@pytest.fixture
def account(admin: SandboxAdmin, receiver: CallbackReceiver, request: pytest.FixtureRequest) -> SandboxAccount:
    dlr = receiver.url(f"/{request.node.name}/dlr")
    return admin.create_account(numbers=1, area_code=AREA, callbacks={"sms_dlr_callback": dlr})


def _client(account: SandboxAccount) -> httpx.Client:
    return loopback.client(base_url=account.base_url, auth=(account.access_key, account.secret_key), timeout=30)


def _send(client: httpx.Client, account: SandboxAccount, to: str) -> str:
    response = client.post("/v2.1/messages", json={"to": to, "from": account.number, "body": "clock"})
    assert response.status_code == 202, response.text
    return str(response.json()["data"]["id"])


def _offset(admin: SandboxAdmin) -> float:
    offset: float = admin.clock()["offset_seconds"]
    return offset


def test_an_hour_long_receipt_delay_is_over_right_after_advancing_an_hour(
    admin: SandboxAdmin, account: SandboxAccount
) -> None:
    to = "13125550170"
    with _client(account) as client:
        rule = {"kind": "delivery", "match": to, "outcome": "delivered", "receipt_delay": HOUR}
        assert client.post("/sandbox/faults", json=rule).status_code == 201
        message_id = _send(client, account, to)
        wait_for_status(client, message_id, "smsc submit", receipts=1)
        time.sleep(0.3)
        wait_for_status(client, message_id, "smsc submit", receipts=1, timeout=0.2)  # still held back
        started, before = time.monotonic(), _offset(admin)
        moved = account.advance(HOUR)
        assert moved["offset_seconds"] == before + HOUR
        delivered = wait_for_status(client, message_id, "delivered", timeout=5)
    assert time.monotonic() - started < 5
    [final] = [receipt for receipt in delivered["delivery_receipts"] if receipt["level"] == 2]
    assert parse_date(final["timestamp"]) >= system_clock() + int((before + HOUR - 1) * 1_000_000)  # the clock's


def test_a_callback_retry_runs_after_advancing_past_its_backoff(
    admin: SandboxAdmin, account: SandboxAccount, receiver: CallbackReceiver, request: pytest.FixtureRequest
) -> None:
    path = f"/{request.node.name}/dlr"
    receiver.answer(path, 503)
    with _client(account) as client:
        message_id = _send(client, account, "13125550171")

    def tries(outcome: str) -> list[dict[str, Any]] | None:
        found = account.callbacks(message_id=message_id, outcome=outcome)
        return found if len(found) == 2 else None  # the level-1 and the level-2 receipt

    eventually(lambda: tries("failed"), what="both receipt callbacks failed once")
    receiver.answer(path, 200)
    started = time.monotonic()
    admin.advance_clock(10)  # the first backoff: 10 s
    retried = eventually(lambda: tries("delivered"), timeout=5, what="both retried")
    assert time.monotonic() - started < 5
    assert [item["attributes"]["attempt"] for item in retried] == [2, 2]


def test_an_idempotency_key_expires_after_a_day_on_the_clock(admin: SandboxAdmin, account: SandboxAccount) -> None:
    body = {"to": "13125550173", "from": account.number, "body": "once"}
    headers = {"Idempotency-Key": "clock-test-key"}
    with _client(account) as client:
        first = client.post("/v2.1/messages", json=body, headers=headers)
        replayed = client.post("/v2.1/messages", json=body, headers=headers)
        assert replayed.headers.get("Idempotent-Replayed") == "true"
        assert replayed.json() == first.json()
        admin.advance_clock(24 * HOUR + 1)
        fresh = client.post("/v2.1/messages", json=body, headers=headers)
    assert fresh.status_code == 202 and "Idempotent-Replayed" not in fresh.headers
    assert fresh.json()["data"]["id"] != first.json()["data"]["id"]


def _throttled(client: httpx.Client, account: SandboxAccount) -> httpx.Response:
    """Sends until the account's send rate answers 429 (at 1 a second, the second send at the latest)."""
    for _ in range(5):
        response = client.post("/v2.1/messages", json={"to": "13125550175", "from": account.number, "body": "rate"})
        if response.status_code == 429:
            return response
        assert response.status_code == 202, response.text
    raise AssertionError("five sends in a row at 1 a second were never throttled")


def test_a_send_rate_limit_clears_after_advancing_the_clock(
    deployed: Deployment, admin: SandboxAdmin, account: SandboxAccount
) -> None:
    deployed.cli("accounts", "set-limits", account.access_key, "--sms-per-second", "1")
    with _client(account) as client:
        throttled = _throttled(client, account)
        assert error_of(throttled, 429) and float(throttled.headers["Retry-After"]) > 0
        admin.advance_clock(1)  # a second of the clock, a few ms of real time: only the clock refills
        _send(client, account, "13125550175")
        assert _throttled(client, account).status_code == 429  # the rate still holds on the moved clock


def test_fault_rules_stop_applying_once_they_expire_on_the_clock(admin: SandboxAdmin, account: SandboxAccount) -> None:
    to = "13125550176"
    with _client(account) as client:
        delivery_rule = {"kind": "delivery", "match": to, "outcome": "undelivered", "expires_in": HOUR}
        assert client.post("/sandbox/faults", json=delivery_rule).status_code == 201
        wait_for_status(client, _send(client, account, to), "undelivered")
        admin.advance_clock(HOUR + 1)
        wait_for_status(client, _send(client, account, to), "delivered")
        api_rule = {"kind": "api", "match": "POST /v2.1/messages", "outcome": 503, "expires_in": 60}
        assert client.post("/sandbox/faults", json=api_rule).status_code == 201
        body = {"to": to, "from": account.number, "body": "expiry"}
        assert error_of(client.post("/v2.1/messages", json=body), 503)["code"] == "sandbox_fault"
        admin.advance_clock(30)  # not yet
        assert error_of(client.post("/v2.1/messages", json=body), 503)["code"] == "sandbox_fault"
        admin.advance_clock(31)
        _send(client, account, to)


def test_the_clock_shows_its_offset_and_records_follow_it(admin: SandboxAdmin, account: SandboxAccount) -> None:
    shown = admin.clock()
    now, real = parse_date(shown["now"]), parse_date(shown["real_time"])
    assert now - real == round(shown["offset_seconds"] * 1_000_000)
    with _client(account) as client:
        created = client.get(f"/v2.1/messages/{_send(client, account, '13125550172')}").json()
    stamped = parse_date(created["data"]["attributes"]["timestamp"])
    assert stamped >= real + int((shown["offset_seconds"] - 1) * 1_000_000)


def test_another_process_follows_the_stored_offset(deployed: Deployment, admin: SandboxAdmin) -> None:
    other = deployed.server("--no-worker").start()
    try:
        peer = SandboxAdmin(other.url, deployed.admin_token())
        offset = peer.advance_clock(60)["offset_seconds"]
        deadline = time.monotonic() + 2
        while _offset(admin) != offset:
            assert time.monotonic() < deadline, "the first server did not take the new offset"
            time.sleep(0.05)
    finally:
        other.terminate()


def test_a_worker_process_of_its_own_follows_the_clock(tmp_path: Path) -> None:
    """An API process without a worker advances the clock; a separate `telroute worker` delivers the receipt."""
    to = "13125550174"
    with api_only(tmp_path) as (deployed, api_server):
        worker = WorkerProcess(deployed).start()
        try:
            account = SandboxAdmin(api_server.url, deployed.admin_token()).create_account(numbers=1, area_code=AREA)
            with _client(account) as client:
                rule = {"kind": "delivery", "match": to, "outcome": "delivered", "receipt_delay": HOUR}
                assert client.post("/sandbox/faults", json=rule).status_code == 201
                message_id = _send(client, account, to)
                wait_for_status(client, message_id, "smsc submit", receipts=1)
                started = time.monotonic()
                account.advance(HOUR)
                wait_for_status(client, message_id, "delivered", timeout=5)
            assert time.monotonic() - started < 5
        finally:
            worker.terminate()


@pytest.mark.parametrize(
    ("body", "pointer"),
    [
        ({"seconds": -1}, "/seconds"),
        ({"seconds": "60"}, "/seconds"),
        ({"seconds": True}, "/seconds"),
        ({}, "/seconds"),
        ({"seconds": 1e12}, "/seconds"),
        ({"seconds": 10**400}, "/seconds"),
        ({"data": {"type": "sandbox_clock", "attributes": {"seconds": -5}}}, "/data/attributes/seconds"),
    ],
)
def test_bad_advances_are_refused_and_change_nothing(
    server: Server, deployed: Deployment, admin: SandboxAdmin, body: dict[str, Any], pointer: str
) -> None:
    before = _offset(admin)
    headers = {"Authorization": f"Bearer {deployed.admin_token()}"}
    response = loopback.post(f"{server.url}/sandbox/clock/advance", json=body, headers=headers, timeout=10)
    assert error_of(response, 422)["source"] == {"pointer": pointer}
    assert _offset(admin) == before


def test_account_keys_do_not_move_the_clock(server: Server, admin: SandboxAdmin, account: SandboxAccount) -> None:
    before = _offset(admin)
    with _client(account) as client:
        error_of(client.post("/sandbox/clock/advance", json={"seconds": 5}), 401)
        error_of(client.get("/sandbox/clock"), 401)
    error_of(loopback.post(f"{server.url}/sandbox/clock/advance", json={"seconds": 5}, timeout=10), 401)
    with pytest.raises(SandboxError):
        SandboxAdmin(server.url, "not-the-token").advance_clock(5)
    assert _offset(admin) == before
