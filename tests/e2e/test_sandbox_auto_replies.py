"""Automatic HELP/STOP/START replies, as carriers send them, over real sockets: a HELP is answered from the
number it was sent to, with a reply that is an outbound message of the account (in its MDRs and sandbox
view, delivered, receipted and called back); a STOP gets one confirmation and nothing after; a START that
lifts an opt-out gets one; the texts are the deployment's, and a deployment may turn the replies off."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from telroute.sandbox_client import SandboxAccount, SandboxAdmin
from tests.support import loopback
from tests.support.callback_receiver import CallbackReceiver
from tests.support.isolated import deployment
from tests.support.messaging import admin_token, error_of, wait_for_status
from tests.support.server import Server

AREA = "248"  # the area code this module buys from (no other module reads 248)
SUBSCRIBER = "13125550191"
NAME = "Acme Pharmacy"
QUIET = 0.5  # how long a test watches for a reply that must not come


@pytest.fixture(scope="module")
def receiver() -> Iterator[CallbackReceiver]:
    with CallbackReceiver() as running:
        yield running


def _account(server: Server, token: str, **more: Any) -> SandboxAccount:
    return SandboxAdmin(server.url, token).create_account(numbers=1, area_code=AREA, name=NAME, **more)


@pytest.fixture
def account(server: Server, receiver: CallbackReceiver) -> Iterator[SandboxAccount]:
    created = _account(server, admin_token(server), callbacks={"sms_dlr_callback": receiver.url("/dlr")})
    yield created
    SandboxAdmin(server.url, admin_token(server)).delete_account(created.access_key)


def _replies(account: SandboxAccount) -> list[dict[str, Any]]:
    return [item["attributes"] for item in account.messages(direction="outbound")]


def _reply(account: SandboxAccount) -> dict[str, Any]:
    message = account.wait_for_message(direction="outbound", to=SUBSCRIBER, timeout=10)
    time.sleep(QUIET)  # and no second one
    assert len(_replies(account)) == 1, _replies(account)
    return message


def _no_reply(account: SandboxAccount) -> None:
    time.sleep(QUIET)
    assert _replies(account) == []


def _client(account: SandboxAccount) -> httpx.Client:
    return loopback.client(base_url=account.base_url, auth=(account.access_key, account.secret_key), timeout=30)


@pytest.mark.parametrize("keyword", ["HELP", " info ", "Help"])
def test_help_is_answered_from_the_number_as_an_outbound_message(
    account: SandboxAccount, receiver: CallbackReceiver, keyword: str
) -> None:
    account.inject_inbound(from_=SUBSCRIBER, body=keyword)
    reply = _reply(account)
    attributes = reply["attributes"]
    assert (attributes["from"], attributes["to"], attributes["direction"]) == (account.number, SUBSCRIBER, "outbound")
    assert attributes["body"].startswith(f"{NAME}: ") and "STOP" in attributes["body"]
    with _client(account) as client:
        delivered = wait_for_status(client, reply["id"], "delivered", receipts=2)
        listed = client.get("/v2.1/messages", params={"start_date": "2000-01-01"}).json()["data"]
    assert delivered["body"] == attributes["body"]
    assert reply["id"] in [item["id"] for item in listed]  # an MDR of the account
    called = account.wait_for_callback(message_id=reply["id"], kind="dlr", timeout=15)
    assert called["attributes"]["url"] == receiver.url("/dlr")


def test_a_stop_gets_one_confirmation_and_nothing_after(account: SandboxAccount) -> None:
    account.inject_inbound(from_=SUBSCRIBER, body="STOP")
    confirmation = _reply(account)["attributes"]
    assert confirmation["body"].startswith(f"{NAME}: ") and "unsubscribed" in confirmation["body"]
    account.inject_inbound(from_=SUBSCRIBER, body="stop")  # already out: no second confirmation
    account.inject_inbound(from_=SUBSCRIBER, body="HELP")  # nor a help text
    with _client(account) as client:
        refused = client.post("/v2.1/messages", json={"to": SUBSCRIBER, "from": account.number, "body": "hi"})
    assert error_of(refused, 400)["code"] == "1110"
    time.sleep(QUIET)
    assert len(_replies(account)) == 1


def test_a_start_that_lifts_an_opt_out_is_confirmed(account: SandboxAccount) -> None:
    account.inject_inbound(from_=SUBSCRIBER, body="STOP")
    account.inject_inbound(from_=SUBSCRIBER, body="START")
    time.sleep(QUIET)
    bodies = [reply["body"] for reply in _replies(account)]
    assert len(bodies) == 2 and "subscribed again" in bodies[0] and "unsubscribed" in bodies[1]  # newest first


@pytest.mark.parametrize("body", ["YES", "START", "stop it", "help me", "hello"])
def test_other_messages_get_no_reply(account: SandboxAccount, body: str) -> None:
    account.inject_inbound(from_=SUBSCRIBER, body=body)  # an opt-in that lifts nothing is no change to confirm
    _no_reply(account)


def test_an_on_net_help_is_answered_to_the_other_account(server: Server, account: SandboxAccount) -> None:
    other = _account(server, admin_token(server))
    try:
        with _client(other) as client:
            sent = client.post("/v2.1/messages", json={"to": account.number, "from": other.number, "body": "HELP"})
            assert sent.status_code == 202, sent.text
        answer = other.wait_for_message(direction="inbound", from_=account.number, timeout=15)
        assert answer["attributes"]["body"].startswith(f"{NAME}: ")
        time.sleep(QUIET)  # the answer is no keyword: nothing bounces back
        assert len(account.messages(direction="outbound")) == 1
    finally:
        SandboxAdmin(server.url, admin_token(server)).delete_account(other.access_key)


# --- a deployment of its own: its texts, or no replies ---------------------------------------------


def test_the_texts_are_the_deployments_and_the_replies_can_be_off(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    with deployment(tmp_path_factory.mktemp("auto-replies")) as deployed:
        custom = deployed.in_process_server(TELROUTE_HELP_REPLY="{account} support: call 555-0100").start()
        off = deployed.in_process_server(TELROUTE_AUTO_REPLIES="off").start()
        try:
            token = deployed.admin_token()
            answered, silent = _account(custom, token), _account(off, token)
            answered.inject_inbound(from_=SUBSCRIBER, body="HELP")
            assert _reply(answered)["attributes"]["body"] == f"{NAME} support: call 555-0100"
            silent.inject_inbound(from_=SUBSCRIBER, body="HELP")
            silent.inject_inbound(from_=SUBSCRIBER, body="STOP")
            _no_reply(silent)
        finally:
            custom.terminate()
            off.terminate()
