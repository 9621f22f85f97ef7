"""POST /v2.1/messages over real sockets: both body formats, every validation rule and status."""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from tests.support.messaging import (
    JSONAPI,
    MESSAGE_ID,
    Keys,
    buy_number,
    error_of,
    message,
    new_account,
    send,
    sent_id,
)
from tests.support.server import Server

OFF_NET = "13125550123"  # a valid NANP destination nobody on the server owns
SENDERS, SENDS_EACH = 8, 6


@pytest.fixture(scope="module")
def sender(server: Server) -> tuple[Keys, str]:
    """One account and its number for the checks that are refused before any rate limit applies."""
    keys = new_account(server)
    with server.client(keys) as client:
        return keys, buy_number(client)


def fresh(server: Server) -> tuple[Keys, str]:
    keys = new_account(server)
    with server.client(keys) as client:
        return keys, buy_number(client)


def assert_accepted(server: Server, response: Any) -> str:
    assert response.status_code == 202, response.text
    assert response.headers["content-type"] == JSONAPI
    document = response.json()
    message_id = document["data"]["id"]
    assert MESSAGE_ID.fullmatch(message_id)
    assert document == {
        "data": {
            "id": message_id,
            "type": "message",
            "links": {"self": f"{server.url}/v2.1/messages/{message_id}"},
        }
    }
    return str(message_id)


def test_flat_body_is_accepted_with_the_exact_202_document(server: Server) -> None:
    keys, number = fresh(server)
    with server.client(keys) as client:
        response = send(client, to=OFF_NET, from_=number, body="hello")
        message_id = assert_accepted(server, response)
        attributes = message(client, message_id)["data"]["attributes"]
    assert (attributes["to"], attributes["from"], attributes["body"]) == (OFF_NET, number, "hello")
    assert attributes["direction"] == "outbound"
    assert attributes["is_mms"] is False


def test_json_api_body_is_accepted(server: Server) -> None:
    keys, number = fresh(server)
    body = {"data": {"type": "message", "attributes": {"to": OFF_NET, "from": number, "body": "hi there"}}}
    with server.client(keys) as client:
        response = client.post("/v2.1/messages", json=body)
        message_id = assert_accepted(server, response)
        attributes = message(client, message_id)["data"]["attributes"]
    assert (attributes["to"], attributes["from"], attributes["body"]) == (OFF_NET, number, "hi there")


@pytest.mark.parametrize(
    "content_type",
    [None, "application/json", "application/vnd.api+json", "application/json; charset=utf-8", "text/plain"],
)
def test_the_body_is_json_whatever_the_content_type_says(server: Server, content_type: str | None) -> None:
    keys, number = fresh(server)
    raw = json.dumps({"to": OFF_NET, "from": number, "body": "typed"}).encode()
    headers = {} if content_type is None else {"Content-Type": content_type}
    with server.client(keys) as client:
        response = client.post("/v2.1/messages", content=raw, headers=headers)
    assert_accepted(server, response)


def test_numbers_are_normalized(server: Server) -> None:
    keys, number = fresh(server)
    with server.client(keys) as client:
        first = sent_id(send(client, to="+" + OFF_NET, from_="+" + number, body="plus"))
        second = sent_id(send(client, to=OFF_NET[1:], from_=number, body="ten digits"))
        assert message(client, first)["data"]["attributes"]["to"] == OFF_NET
        assert message(client, first)["data"]["attributes"]["from"] == number
        assert message(client, second)["data"]["attributes"]["to"] == OFF_NET


def test_unauthenticated_send_is_401(server: Server) -> None:
    with server.client() as client:
        response = client.post("/v2.1/messages", json={"to": OFF_NET, "from": OFF_NET, "body": "x"})
    error = error_of(response, 401)
    assert response.headers["www-authenticate"] == 'Basic realm="telroute"'
    assert error["code"] == "unauthorized"


@pytest.mark.parametrize(
    ("raw", "detail"),
    [
        (b'{"to": "13125550123", "from":', "request body is not valid JSON"),
        (b"not json at all", "request body is not valid JSON"),
        (b"", "request body is empty; a JSON object was expected"),
        (b"   ", "request body is empty; a JSON object was expected"),
        (b"[1, 2]", "request body must be a JSON object"),
        (b'"hello"', "request body must be a JSON object"),
        (b"42", "request body must be a JSON object"),
        (b"null", "request body must be a JSON object"),
        (b'{"data": [1]}', "data must be an object"),
        (b'{"data": {"attributes": "x"}}', "data.attributes must be an object"),
        (b"\xff\xfe{}", "request body is not valid UTF-8"),
    ],
)
def test_a_body_that_is_not_a_json_object_is_400(
    server: Server, sender: tuple[Keys, str], raw: bytes, detail: str
) -> None:
    keys, _ = sender
    with server.client(keys) as client:
        response = client.post("/v2.1/messages", content=raw, headers={"Content-Type": "application/json"})
    error = error_of(response, 400)
    assert error["detail"].startswith(detail), error
    assert error["code"] == "bad_request"


IS_MMS_DETAIL = 'is_mms must be a boolean or "true"/"false"'
GIF = "https://cdn.example/a.gif"
NOT_HTTP = "media_urls[] must be an absolute http or https URL"
SPACES = "dlr_callback must not contain spaces or control characters"
SMS = {"to": OFF_NET, "from": "NUMBER", "body": "x"}


@pytest.mark.parametrize(
    ("attributes", "detail", "field"),
    [
        ({"from": "NUMBER", "body": "x"}, "to is required", "to"),
        ({**SMS, "to": ""}, "to is required", "to"),
        ({**SMS, "to": None}, "to is required", "to"),
        ({"to": OFF_NET, "body": "x"}, "from is required", "from"),
        ({**SMS, "to": [OFF_NET]}, "to must be a string phone number", "to"),
        ({**SMS, "from": True}, "from must be a string phone number", "from"),
        ({"to": OFF_NET, "from": "NUMBER"}, "body is required for an SMS", "body"),
        ({**SMS, "body": ""}, "body is required for an SMS", "body"),
        ({**SMS, "body": 5}, "body must be a string", "body"),
        ({"to": OFF_NET, "from": "NUMBER", "is_mms": "false"}, "body is required for an SMS", "body"),
        ({"to": OFF_NET, "from": "NUMBER", "is_mms": True}, "an MMS needs a body or media_urls", "body"),
        ({**SMS, "is_mms": "yes"}, IS_MMS_DETAIL, "is_mms"),
        ({**SMS, "is_mms": 1}, IS_MMS_DETAIL, "is_mms"),
        ({**SMS, "is_mms": "1"}, IS_MMS_DETAIL, "is_mms"),
        ({**SMS, "media_urls": GIF}, "media_urls must be a list of URLs", "media_urls"),
        ({**SMS, "media_urls": {"url": GIF}}, "media_urls must be a list of URLs", "media_urls"),
        ({**SMS, "media_urls": [5]}, "media_urls[] must be a string URL", "media_urls"),
        ({**SMS, "media_urls": ["ftp://cdn.example/a.gif"]}, NOT_HTTP, "media_urls"),
        ({**SMS, "dlr_callback": "not a url"}, SPACES, "dlr_callback"),
    ],
)  # fmt: skip
@pytest.mark.parametrize("shape", ["flat", "json:api"])
def test_missing_or_malformed_attributes_are_400(
    server: Server, sender: tuple[Keys, str], attributes: dict[str, Any], detail: str, field: str, shape: str
) -> None:
    keys, number = sender
    filled = {key: number if value == "NUMBER" else value for key, value in attributes.items()}
    body = filled if shape == "flat" else {"data": {"type": "message", "attributes": filled}}
    with server.client(keys) as client:
        response = client.post("/v2.1/messages", json=body)
    error = error_of(response, 400)
    assert error["detail"] == detail
    prefix = "" if shape == "flat" else "/data/attributes"
    assert error["source"] == {"pointer": f"{prefix}/{field}"}


@pytest.mark.parametrize(
    ("is_mms", "expected"), [(True, True), ("true", True), (False, False), ("false", False), (None, False)]
)
def test_is_mms_as_boolean_or_string(server: Server, is_mms: object, expected: bool) -> None:
    keys, number = fresh(server)
    with server.client(keys) as client:
        message_id = sent_id(send(client, to=OFF_NET, from_=number, body="caption", is_mms=is_mms))
        attributes = message(client, message_id)["data"]["attributes"]
    assert attributes["is_mms"] is expected
    assert attributes["amount_nanodollars"] == (19_500_000 if expected else 4_000_000)
    assert attributes["amount_display"] == ("$0.0195" if expected else "$0.0040")


def test_from_a_number_nobody_on_the_account_owns_is_403(server: Server, sender: tuple[Keys, str]) -> None:
    keys, _ = sender
    with server.client(keys) as client:
        available = client.get("/v2/numbers/available", params={"limit": 1}).json()["data"][0]["id"]
        responses = {
            raw: send(client, to=OFF_NET, from_=raw, body="x") for raw in (available, "not-a-number", "12065550")
        }
    for raw, response in responses.items():
        error = error_of(response, 403)
        assert error["detail"] == f"from number {raw} is not a number on this account"
        assert error["code"] == "forbidden"
        assert error["source"] == {"pointer": "/from"}


def test_from_another_accounts_number_is_403_and_sends_nothing(server: Server, sender: tuple[Keys, str]) -> None:
    keys, _ = sender
    other_keys, other_number = fresh(server)
    with server.client(keys) as client:
        response = send(client, to=OFF_NET, from_=other_number, body="not mine")
    error = error_of(response, 403)
    assert error["detail"] == f"from number {other_number} is not a number on this account"
    with server.client(other_keys) as client:
        assert client.get("/v2.1/messages", params={"start_date": "2000-01-01"}).json()["data"] == []


@pytest.mark.parametrize(
    "to", ["123", "1312555012", "131255501234", "10125550123", "13121550123", "+44 20 7946 0958", "1312555o123"]
)
def test_a_to_that_is_not_a_nanp_number_is_422(server: Server, sender: tuple[Keys, str], to: str) -> None:
    keys, number = sender
    with server.client(keys) as client:
        response = send(client, to=to, from_=number, body="x")
    error = error_of(response, 422)
    assert error["detail"].startswith("to is not a valid NANP number: "), error
    assert error["code"] == "unprocessable"
    assert error["source"] == {"pointer": "/to"}


def test_refused_sends_leave_no_message(server: Server, sender: tuple[Keys, str]) -> None:
    keys, _ = sender
    with server.client(keys) as client:
        listed = client.get("/v2.1/messages", params={"start_date": "2000-01-01"})
    assert listed.status_code == 200
    assert listed.json()["data"] == []


def test_sends_with_and_without_an_idempotency_key_at_once_all_land_in_order(server: Server) -> None:
    """On PostgreSQL a plain send is one statement and a keyed one a transaction of several: both lock the
    account's rate row before its position row, or two of them at once could deadlock. Every send lands, and
    the positions have no gap (the list's offsets are counted in positions)."""
    keys = new_account(server, per_second=10_000)
    with server.client(keys) as client:
        number = buy_number(client)

    def send_some(first: int) -> list[str]:
        with server.client(keys) as client:
            return [
                sent_id(
                    send(
                        client,
                        {"Idempotency-Key": f"k{index}"} if index % 2 else None,
                        to=OFF_NET,
                        from_=number,
                        body=f"at once {index}",
                    )
                )
                for index in range(first, first + SENDS_EACH)
            ]

    with ThreadPoolExecutor(SENDERS) as pool:
        sent = [
            message_id for ids in pool.map(send_some, range(0, SENDERS * SENDS_EACH, SENDS_EACH)) for message_id in ids
        ]
    total = SENDERS * SENDS_EACH
    with server.client(keys) as client:
        listed = client.get("/v2.1/messages", params={"start_date": "2000-01-01", "limit": 1000}).json()["data"]
        oldest = client.get("/v2.1/messages", params={"start_date": "2000-01-01", "limit": 1, "offset": total - 1})
        beyond = client.get("/v2.1/messages", params={"start_date": "2000-01-01", "limit": 1, "offset": total})
    assert sorted(item["id"] for item in listed) == sorted(sent)
    assert [item["id"] for item in oldest.json()["data"]] == [listed[-1]["id"]]
    assert beyond.json()["data"] == []
