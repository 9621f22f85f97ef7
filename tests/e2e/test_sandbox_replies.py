"""Replies threaded to an outbound message, over real sockets against a real `telroute serve`:
`POST /sandbox/inbound` with `reply_to` comes from the answered message's `to` to its `from`, SMS or MMS, and
the sandbox's message view links it (`in_reply_to`); bad `reply_to` values are pointed at and change nothing."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from telroute.sandbox_client import SandboxAccount, SandboxAdmin
from tests.support import loopback
from tests.support.messaging import admin_token, error_of
from tests.support.receiver import Receiver, sized_content
from tests.support.server import Server

AREA = "260"  # the area code this module buys from (no other module reads 260)
CUSTOMER = "13125550191"


@pytest.fixture
def account(server: Server) -> Iterator[SandboxAccount]:
    admin = SandboxAdmin(server.url, admin_token(server))
    created = admin.create_account(numbers=1, area_code=AREA)
    yield created
    admin.delete_account(created.access_key)


def _sent(account: SandboxAccount) -> str:
    body = {"to": CUSTOMER, "from": account.number, "body": "Reply YES to confirm"}
    with loopback.client(auth=(account.access_key, account.secret_key), timeout=30) as client:
        response = client.post(f"{account.base_url}/v2.1/messages", json=body)
    assert response.status_code == 202, response.text
    return str(response.json()["data"]["id"])


def _inject(server: Server, body: dict[str, Any]) -> httpx.Response:
    headers = {"Authorization": f"Bearer {admin_token(server)}"}
    return loopback.post(f"{server.url}/sandbox/inbound", json=body, headers=headers, timeout=30)


def test_a_reply_comes_from_the_recipient_and_is_linked(server: Server, account: SandboxAccount) -> None:
    answered = _sent(account)
    response = _inject(server, {"reply_to": answered, "body": "YES"})
    assert response.status_code == 202, response.text
    reply = account.wait_for_message(direction="inbound")
    attributes = reply["attributes"]
    assert reply["id"] == response.json()["data"]["id"]
    assert (attributes["from"], attributes["to"], attributes["in_reply_to"]) == (CUSTOMER, account.number, answered)
    [original] = account.messages(direction="outbound")
    assert original["attributes"]["in_reply_to"] is None


def test_an_mms_reply_carries_its_media(server: Server, account: SandboxAccount, media_host: Receiver) -> None:
    answered = _sent(account)
    url = media_host.serve("/reply.jpg", sized_content(100), content_type="image/jpeg")
    body = {"data": {"type": "message", "attributes": {"reply_to": answered, "media_urls": [url], "from": CUSTOMER}}}
    assert _inject(server, body).status_code == 202
    reply = account.wait_for_message(direction="inbound")
    assert (reply["attributes"]["is_mms"], reply["attributes"]["in_reply_to"]) == (True, answered)


@pytest.mark.parametrize(
    ("body", "status", "pointer"),
    [
        ({"reply_to": "mdr2-no-such-message", "body": "hi"}, 422, "/reply_to"),
        ({"reply_to": 17, "body": "hi"}, 400, "/reply_to"),
        ({"reply_to": "", "body": "hi"}, 400, "/reply_to"),
        ({"reply_to": "ANSWERED", "body": "hi", "from": "13125550100"}, 422, "/from"),
        ({"reply_to": "ANSWERED", "body": "hi", "to": "12065550100"}, 422, "/to"),
        ({"reply_to": "ANSWERED"}, 400, "/body"),
    ],
)
def test_bad_replies_are_pointed_at_and_create_nothing(
    server: Server, account: SandboxAccount, body: dict[str, Any], status: int, pointer: str
) -> None:
    answered = _sent(account)
    wanted = {name: answered if value == "ANSWERED" else value for name, value in body.items()}
    error = error_of(_inject(server, wanted), status)
    assert error["source"] == {"pointer": pointer}
    assert account.messages(direction="inbound") == []
