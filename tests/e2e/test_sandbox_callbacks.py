"""The sandbox's callback view, over real sockets against a real `telroute serve`: what telroute sent the
app (URL, payload, status, latency, error, attempt, dead letter), filters, the long poll and its 408,
isolation between accounts, bad filters pointed at, and the plugin client's methods."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from telroute.sandbox_client import CallbackNotTried, SandboxAccount, SandboxAdmin
from tests.support import loopback
from tests.support.callback_receiver import CallbackReceiver
from tests.support.isolated import deployment
from tests.support.messaging import admin_token, error_of, wait_until
from tests.support.server import Server

AREA = "231"  # the area code this module buys from (no other module reads 231)
OFF_NET = "13125550123"  # the simulator delivers it


@pytest.fixture(scope="module")
def receiver() -> Iterator[CallbackReceiver]:
    with CallbackReceiver() as running:
        yield running


def _account(server: Server, callbacks: dict[str, str]) -> SandboxAccount:
    admin = SandboxAdmin(server.url, admin_token(server))
    return admin.create_account(numbers=1, area_code=AREA, callbacks=callbacks)


@pytest.fixture
def account(server: Server, receiver: CallbackReceiver, request: pytest.FixtureRequest) -> Iterator[SandboxAccount]:
    path = f"/{request.node.name}/dlr"
    created = _account(server, {"sms_dlr_callback": receiver.url(path)})
    yield created
    SandboxAdmin(server.url, admin_token(server)).delete_account(created.access_key)


def _client(account: SandboxAccount) -> httpx.Client:
    return loopback.client(base_url=account.base_url, auth=(account.access_key, account.secret_key), timeout=30)


def _send(account: SandboxAccount, body: str = "hello") -> str:
    with _client(account) as client:
        response = client.post("/v2.1/messages", json={"to": OFF_NET, "from": account.number, "body": body})
    assert response.status_code == 202, response.text
    return str(response.json()["data"]["id"])


def _search(account: SandboxAccount, **params: Any) -> list[dict[str, Any]]:
    with _client(account) as client:
        response = client.get("/sandbox/callbacks", params=params)
    assert response.status_code == 200, response.text
    data: list[dict[str, Any]] = response.json()["data"]
    return data


def test_each_try_shows_what_was_sent_and_what_the_app_answered(
    account: SandboxAccount, receiver: CallbackReceiver
) -> None:
    message_id = _send(account)
    record = account.wait_for_callback(message_id=message_id, kind="dlr", timeout=15)
    attributes = record["attributes"]
    assert record["type"] == "sandbox_callback"
    assert attributes["url"].endswith("/dlr") and attributes["message_id"] == message_id
    assert attributes["payload"]["data"]["id"] == message_id
    assert (attributes["attempt"], attributes["status"], attributes["error"]) == (1, 200, None)
    assert (attributes["outcome"], attributes["dead_lettered"]) == ("delivered", False)
    assert attributes["latency_ms"] >= 0
    [sent] = [item for item in receiver.requests() if item.json()["data"]["id"] == message_id][-1:]
    assert sent.json() == attributes["payload"]


def test_a_failing_app_is_shown_as_failed_with_its_status(account: SandboxAccount, receiver: CallbackReceiver) -> None:
    receiver.answer("/test_a_failing_app_is_shown_as_failed_with_its_status/dlr", 503)
    message_id = _send(account)
    record = account.wait_for_callback(message_id=message_id, outcome="failed", timeout=15)
    assert (record["attributes"]["status"], record["attributes"]["error"]) == (503, "HTTP 503")
    assert _search(account, outcome="delivered", message_id=message_id) == []
    assert [item["id"] for item in _search(account, status=503)] == [record["id"]]


def _when(item: dict[str, Any]) -> datetime:
    return datetime.fromisoformat(item["attributes"]["created_at"])


def test_filters_and_pages(account: SandboxAccount) -> None:
    first, second = _send(account, "one"), _send(account, "two")
    for message_id in (first, second):
        account.wait_for_callback(message_id=message_id, timeout=15)
    wait_until(lambda: len(_search(account)) >= 4, what="two receipts each")  # level 1 and level 2
    assert {item["attributes"]["message_id"] for item in _search(account, message_id=first)} == {first}
    newest = _search(account)
    assert [int(item["id"]) for item in newest] == sorted((int(item["id"]) for item in newest), reverse=True)
    with _client(account) as client:
        page = client.get("/sandbox/callbacks", params={"limit": 1}).json()
    assert len(page["data"]) == 1 and "offset=1" in page["links"]["next"]
    moment = newest[0]["attributes"]["created_at"]
    later = _search(account, after=moment)  # a retried try may still come in on a busy machine
    assert all(_when(item) > _when(newest[0]) for item in later), later
    earlier = _search(account, before=moment)
    assert earlier and all(_when(item) < _when(newest[0]) for item in earlier), earlier
    assert _search(account, kind="inbound_sms") == []


def test_wait_wakes_up_when_the_callback_is_tried(account: SandboxAccount) -> None:
    found: list[dict[str, Any]] = []
    waiting = threading.Thread(target=lambda: found.append(account.wait_for_callback(kind="dlr", timeout=20)))
    waiting.start()
    time.sleep(0.3)
    message_id = _send(account)
    waiting.join(25)
    assert found and found[0]["attributes"]["message_id"] == message_id


def test_a_wait_that_times_out_says_what_it_waited_for_and_what_was_tried(account: SandboxAccount) -> None:
    message_id = _send(account)
    account.wait_for_callback(message_id=message_id, timeout=15)
    started = time.monotonic()
    with pytest.raises(CallbackNotTried) as caught:
        account.wait_for_callback(kind="inbound_mms", timeout=0.5)
    assert time.monotonic() - started >= 0.5
    text = str(caught.value)
    assert "kind='inbound_mms'" in text and f"dlr #1 for {message_id}" in text
    with _client(account) as client:
        error = error_of(client.get("/sandbox/callbacks/wait", params={"outcome": "dead_lettered", "timeout": 0}), 408)
    assert error["code"] == "wait_timed_out"


def test_an_account_sees_only_its_own_callbacks(server: Server, account: SandboxAccount) -> None:
    message_id = _send(account)
    account.wait_for_callback(message_id=message_id, timeout=15)
    other = _account(server, {})
    try:
        assert other.callbacks() == [] and other.callbacks(message_id=message_id) == []
        with pytest.raises(CallbackNotTried):
            other.wait_for_callback(message_id=message_id, timeout=0)
    finally:
        SandboxAdmin(server.url, admin_token(server)).delete_account(other.access_key)


@pytest.mark.parametrize(
    ("params", "status", "parameter"),
    [
        ({"kind": "sms"}, 400, "kind"),
        ({"outcome": "ok"}, 400, "outcome"),
        ({"status": "2000"}, 400, "status"),
        ({"status": "abc"}, 400, "status"),
        ({"after": "yesterday"}, 400, "after"),
        ({"after": "2026-01-02", "before": "2026-01-01"}, 422, "before"),
        ({"message": "x"}, 400, "message"),
        ({"message_id": "x" * 101}, 400, "message_id"),
        ({"timeout": "61"}, 422, "timeout"),
        ({"timeout": "soon"}, 400, "timeout"),
    ],
)
def test_bad_filters_are_pointed_at(
    account: SandboxAccount, params: dict[str, str], status: int, parameter: str
) -> None:
    with _client(account) as client:
        error = error_of(client.get("/sandbox/callbacks/wait", params={**params, "timeout": "0", **params}), status)
    assert error["source"] == {"parameter": parameter}


def test_admin_token_is_not_an_account_credential(server: Server) -> None:
    headers = {"Authorization": f"Bearer {admin_token(server)}"}
    error_of(loopback.get(f"{server.url}/sandbox/callbacks", headers=headers), 401)


def test_the_last_failed_try_is_shown_dead_lettered(tmp_path: Path) -> None:
    """A deployment of its own: one quick retry, then the dead letter."""
    with CallbackReceiver() as hook, deployment(tmp_path) as deployed:
        hook.answer("/dlr", 500)
        server = deployed.server(TELROUTE_WEBHOOK_BACKOFF="0.2").start()
        try:
            account = _account(server, {"sms_dlr_callback": hook.url("/dlr")})
            message_id = _send(account)
            last = account.wait_for_callback(message_id=message_id, outcome="dead_lettered", timeout=20)
            assert (last["attributes"]["attempt"], last["attributes"]["dead_lettered"]) == (2, True)
            tries = account.callbacks(message_id=message_id, kind="dlr")
            assert [item["attributes"]["outcome"] for item in tries][-1] == "failed"
        finally:
            server.terminate()
