"""Inbound messages from the outside world in the sandbox: `POST /sandbox/inbound` (admin token)
and `telroute simulate inbound` against a running server's data dir."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.support import loopback
from tests.support.messaging import (
    MESSAGE_ID,
    TIMESTAMP,
    Keys,
    admin_token,
    buy_number,
    error_of,
    message,
    messages,
    new_account,
)
from tests.support.receiver import Receiver, sized_content
from tests.support.server import Server, run_cli

OUTSIDE = "13125550188"  # the sender out in the world


@pytest.fixture(scope="module")
def receiver() -> Iterator[Receiver]:
    with Receiver() as running:
        yield running


def fresh(server: Server, **filters: str) -> tuple[Keys, str]:
    keys = new_account(server)
    with server.client(keys) as client:
        return keys, buy_number(client, **filters)


def inject(server: Server, body: dict[str, Any], authorization: str | None = "admin") -> httpx.Response:
    if authorization == "admin":
        authorization = f"Bearer {admin_token(server)}"
    headers = {} if authorization is None else {"Authorization": authorization}
    with loopback.client(base_url=server.url, timeout=30) as client:
        return client.post("/sandbox/inbound", json=body, headers=headers)


def inbound_sms(body: str, from_number: str, to_number: str, message_type: str = "longcode") -> dict[str, Any]:
    return {
        "body": body,
        "status": "delivered",
        "direction": "inbound",
        "amount_nanodollars": 4_000_000,
        "amount_display": "$0.0040",
        "to": to_number,
        "from": from_number,
        "message_encoding": 0,
        "is_mms": False,
        "message_type": message_type,
        "delivery_receipts": [],
    }


def without_timestamp(attributes: dict[str, Any]) -> dict[str, Any]:
    assert TIMESTAMP.fullmatch(attributes["timestamp"])
    return {key: value for key, value in attributes.items() if key != "timestamp"}


# POST /sandbox/inbound


def test_an_injected_sms_becomes_an_inbound_record_of_the_owner(server: Server) -> None:
    keys, number = fresh(server)
    response = inject(server, {"from": "+" + OUTSIDE, "to": number, "body": "Hello"})
    assert response.status_code == 202, response.text
    assert response.headers["content-type"] == "application/vnd.api+json"
    message_id = response.json()["data"]["id"]
    assert MESSAGE_ID.fullmatch(message_id)
    assert response.json() == {
        "data": {"id": message_id, "type": "message", "links": {"self": f"{server.url}/v2.1/messages/{message_id}"}}
    }
    with server.client(keys) as client:
        document = message(client, message_id)
        assert [item["id"] for item in messages(client)["data"]] == [message_id]
    assert set(document) == {"data"}
    assert without_timestamp(document["data"]["attributes"]) == inbound_sms("Hello", OUTSIDE, number)


def test_an_injected_sms_to_a_toll_free_number(server: Server) -> None:
    keys, number = fresh(server, number_type="tollfree")
    message_id = inject(server, {"from": OUTSIDE, "to": number, "body": "Grüße 你好"}).json()["data"]["id"]
    with server.client(keys) as client:
        attributes = message(client, message_id)["data"]["attributes"]
    assert attributes["message_type"] == "toll-free"
    assert attributes["message_encoding"] == 8


def test_an_injected_mms_brings_its_media(server: Server, receiver: Receiver) -> None:
    picture = sized_content(3000, seed=5)
    url = receiver.serve("/inbound/selfie.png", picture, content_type="image/png")
    keys, number = fresh(server)
    response = inject(server, {"from": OUTSIDE, "to": number, "body": "look", "media_urls": [url]})
    assert response.status_code == 202, response.text
    with server.client(keys) as client:
        document = message(client, response.json()["data"]["id"])
        media_id = document["included"][0]["id"]
        served = client.get(f"/v2.1/media/{media_id}")
    attributes = without_timestamp(document["data"]["attributes"])
    assert (attributes["is_mms"], attributes["status"], attributes["amount_nanodollars"]) == (True, "", 9_500_000)
    assert document["included"][0]["attributes"] == {
        "url": url,
        "file_name": "selfie.png",
        "mime_type": "image/png",
        "file_size": 3000,
    }
    assert served.content == picture


def test_the_admin_token_is_required(server: Server) -> None:
    _, number = fresh(server)
    body = {"from": OUTSIDE, "to": number, "body": "Hello"}
    token = admin_token(server)
    for authorization in (None, "Bearer wrong-token", "Bearer", f"Bearer {token}x", f"Token {token}"):
        error = error_of(inject(server, body, authorization), 401)
        assert error["detail"] == "this endpoint needs the admin token: Authorization: Bearer <token>"
    # Basic credentials of an account are not the admin token either
    keys = new_account(server)
    with server.client(keys) as client:
        error_of(client.post("/sandbox/inbound", json=body), 401)


def test_a_number_nobody_owns_is_404(server: Server) -> None:
    error = error_of(inject(server, {"from": OUTSIDE, "to": "13125550177", "body": "anyone?"}), 404)
    assert error["detail"] == "number 13125550177 is not on this server"


NOT_A_LIST = "media_urls must be a list of URLs"


@pytest.mark.parametrize(
    ("body", "detail"),
    [
        ({"to": "NUMBER", "body": "x"}, "from is required and must be a string"),
        ({"from": OUTSIDE, "body": "x"}, "to is required and must be a string"),
        ({"from": OUTSIDE, "to": "NUMBER"}, "an inbound message needs a body or media_urls"),
        ({"from": OUTSIDE, "to": "NUMBER", "body": 3}, "body must be a string"),
        ({"from": OUTSIDE, "to": "NUMBER", "body": "x", "media_urls": "u"}, NOT_A_LIST),
    ],
)  # fmt: skip
def test_malformed_injections_are_400(server: Server, body: dict[str, Any], detail: str) -> None:
    _, number = fresh(server)
    filled = {key: number if value == "NUMBER" else value for key, value in body.items()}
    assert error_of(inject(server, filled), 400)["detail"] == detail


# telroute simulate inbound


def simulate(server: Server, *args: str) -> Any:
    return run_cli(server.data_dir, "simulate", "inbound", *args, check=False)


def test_the_cli_injects_an_sms_and_the_server_delivers_its_callback(server: Server, receiver: Receiver) -> None:
    keys, number = fresh(server)
    callback = receiver.url("/cli/sms")
    with server.client(keys) as client:
        assert client.put("/v2.1/messages/sms_callback", json={"callback_url": callback}).status_code == 204
    result = simulate(server, "--from", OUTSIDE, "--to", number, "--body", "Hello from the CLI")
    assert result.returncode == 0, result.stderr
    message_id = result.stdout.strip()
    assert MESSAGE_ID.fullmatch(message_id), result.stdout
    assert result.stdout == message_id + "\n"

    with server.client(keys) as client:
        attributes = message(client, message_id)["data"]["attributes"]
    assert without_timestamp(attributes) == inbound_sms("Hello from the CLI", OUTSIDE, number)

    [delivered] = receiver.wait_for(1, path="/cli/sms")
    assert delivered.headers["content-type"] == "application/json"
    assert delivered.json() == {
        "data": {
            "type": "message",
            "id": message_id,
            "attributes": {**attributes, "message_callback_url": callback},
        }
    }


def test_the_cli_injects_an_mms(server: Server, receiver: Receiver) -> None:
    picture = sized_content(777, seed=7)
    url = receiver.serve("/cli/cat.gif", picture, content_type="image/gif")
    keys, number = fresh(server)
    callback = receiver.url("/cli/mms")
    with server.client(keys) as client:
        assert client.put("/v2.1/messages/mms_callback", json={"callback_url": callback}).status_code == 204
    result = simulate(server, "--from", OUTSIDE, "--to", number, "--media-url", url, "--public-base-url", server.url)
    assert result.returncode == 0, result.stderr
    message_id = result.stdout.strip()
    with server.client(keys) as client:
        document = message(client, message_id)
        media_id = document["included"][0]["id"]
        served = client.get(f"/v2.1/media/{media_id}")
    attributes = without_timestamp(document["data"]["attributes"])
    assert (attributes["is_mms"], attributes["status"], attributes["body"]) == (True, "", None)
    assert served.content == picture
    [delivered] = receiver.wait_for(1, path="/cli/mms")
    payload = delivered.json()
    assert payload["data"]["relationships"] == {"media": {"data": [{"type": "media", "id": media_id}]}}
    assert payload["included"] == [
        {
            "type": "media",
            "id": media_id,
            "attributes": {"url": url, "file_name": "cat.gif", "mime_type": "image/gif", "file_size": 777},
            "links": {"self": f"{server.url}/v2.1/media/{media_id}"},
        }
    ]


def test_the_cli_refuses_a_number_nobody_owns(server: Server) -> None:
    result = simulate(server, "--from", OUTSIDE, "--to", "13125550166", "--body", "anyone?")
    assert result.returncode == 1
    assert result.stdout == ""
    assert "error: number 13125550166 is not on this server" in result.stderr


def test_the_cli_refuses_an_empty_message_before_touching_the_database(tmp_path: Any) -> None:
    result = run_cli(tmp_path, "simulate", "inbound", "--from", OUTSIDE, "--to", "13125550166", check=False)
    assert result.returncode == 1
    assert "error: an inbound message needs a body or media_urls" in result.stderr
    assert not (tmp_path / "telroute.db").exists()
