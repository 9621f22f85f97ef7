"""STOP and START, over real sockets against a real `telroute serve`: an inbound opt-out keyword from a
subscriber blocks further sends from that number to them (400, code 1110, as Flowroute answers) until an
opt-in keyword; the keyword message itself is stored and called back; only a whole-message keyword counts;
other numbers of the account are not blocked; reset forgets opt-outs."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from telroute.sandbox_client import SandboxAccount, SandboxAdmin
from tests.support import loopback
from tests.support.callback_receiver import CallbackReceiver
from tests.support.messaging import admin_token, error_of
from tests.support.receiver import Receiver, sized_content
from tests.support.server import Server

AREA = "239"  # the area code this module buys from (no other module reads 239)
SUBSCRIBER = "13125550190"


@pytest.fixture(scope="module")
def receiver() -> Iterator[CallbackReceiver]:
    with CallbackReceiver() as running:
        yield running


@pytest.fixture
def account(server: Server, receiver: CallbackReceiver) -> Iterator[SandboxAccount]:
    admin = SandboxAdmin(server.url, admin_token(server))
    created = admin.create_account(numbers=2, area_code=AREA, callbacks={"sms_callback": receiver.url("/in")})
    yield created
    admin.delete_account(created.access_key)


def _send(account: SandboxAccount, sender: str | None = None) -> httpx.Response:
    body = {"to": SUBSCRIBER, "from": sender or account.number, "body": "offer"}
    with loopback.client(auth=(account.access_key, account.secret_key), timeout=30) as client:
        return client.post(f"{account.base_url}/v2.1/messages", json=body)


def _outbound(account: SandboxAccount) -> int:
    return len(account.messages(direction="outbound"))


@pytest.mark.parametrize("keyword", ["STOP", "stop", " Unsubscribe ", "STOPALL", "cancel", "End", "QUIT"])
def test_an_opt_out_keyword_blocks_sends_from_that_number(account: SandboxAccount, keyword: str) -> None:
    account.inject_inbound(from_=SUBSCRIBER, body=keyword)
    confirmed = _outbound(account)  # the automatic confirmation (test_sandbox_auto_replies.py)
    error = error_of(_send(account), 400)
    assert (error["code"], error["source"]) == ("1110", {"pointer": "/to"})
    assert SUBSCRIBER in error["detail"] and "STOP" in error["detail"]
    assert _outbound(account) == confirmed  # refused: nothing recorded
    assert _send(account, account.numbers[1]).status_code == 202  # the account's other number may still write


@pytest.mark.parametrize("keyword", ["START", "unstop", "Yes"])
def test_an_opt_in_keyword_lifts_the_block(account: SandboxAccount, keyword: str) -> None:
    account.inject_inbound(from_=SUBSCRIBER, body="STOP")
    assert _send(account).status_code == 400
    account.inject_inbound(from_=SUBSCRIBER, body=keyword)
    assert _send(account).status_code == 202


@pytest.mark.parametrize("body", ["stop it", "please STOP", "HELP", "info"])
def test_other_messages_block_nothing(account: SandboxAccount, body: str) -> None:
    account.inject_inbound(from_=SUBSCRIBER, body=body)
    assert _send(account).status_code == 202


def test_the_keyword_message_is_stored_and_called_back(account: SandboxAccount) -> None:
    message_id = account.inject_inbound(from_=SUBSCRIBER, body="STOP")
    [stored] = account.messages(direction="inbound")
    assert (stored["id"], stored["attributes"]["body"]) == (message_id, "STOP")
    callback = account.wait_for_callback(message_id=message_id, kind="inbound_sms", timeout=15)
    assert callback["attributes"]["payload"]["data"]["attributes"]["body"] == "STOP"


def test_reset_forgets_opt_outs(account: SandboxAccount) -> None:
    account.inject_inbound(from_=SUBSCRIBER, body="STOP")
    account.reset()
    assert _send(account).status_code == 202


def test_an_mms_is_refused_too_after_its_media_are_fetched(account: SandboxAccount, media_host: Receiver) -> None:
    url = media_host.serve("/opt-out/cat.png", sized_content(500, seed=7), content_type="image/png")
    account.inject_inbound(from_=SUBSCRIBER, body="STOP")
    body = {"to": SUBSCRIBER, "from": account.number, "body": "a picture", "media_urls": [url]}
    with loopback.client(auth=(account.access_key, account.secret_key), timeout=30) as client:
        refused = client.post(f"{account.base_url}/v2.1/messages", json=body)
    assert error_of(refused, 400)["code"] == "1110"
