"""GET /v2.1/messages/{id} and GET /v2.1/messages: the MDR shape, prices, dates and paging."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

import pytest

from tests.support import loopback
from tests.support.messaging import (
    JSONAPI,
    MDR_KEYS,
    TIMESTAMP,
    Keys,
    buy_number,
    error_of,
    message,
    messages,
    new_account,
    send,
    sent_id,
    wait_until,
)
from tests.support.server import Server

OFF_NET = "13125550123"
GSM_161 = ("Flowroute-compatible messaging @ £1 & ¥2! " * 5)[:161]
UNICODE = "Grüße aus Köln — 你好"  # '—' and '你' are not in GSM 03.38


def fresh(server: Server, **filters: str) -> tuple[Keys, str]:
    keys = new_account(server)
    with server.client(keys) as client:
        return keys, buy_number(client, **filters)


def parse_timestamp(text: str) -> datetime:
    assert TIMESTAMP.fullmatch(text), text
    return datetime.strptime(text[:-1] + "0000Z", "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC)


def centisecond(text: str) -> int:
    """An MDR timestamp as integer centiseconds since the epoch."""
    return int(parse_timestamp(text).timestamp() * 100 + 0.5)


def assert_recent(text: str) -> None:
    age = time.time() - parse_timestamp(text).timestamp()
    assert -1 < age < 60, text


@pytest.fixture(scope="module")
def three(server: Server) -> tuple[Keys, str, list[str]]:
    """An account that sent three messages, in order, each in its own centisecond."""
    keys, number = fresh(server)
    ids: list[str] = []
    with server.client(keys) as client:
        for index in range(3):
            ids.append(sent_id(send(client, to=OFF_NET, from_=number, body=f"message {index}")))
            next_centisecond = centisecond(message(client, ids[-1])["data"]["attributes"]["timestamp"]) + 1
            wait_until(lambda: time.time() * 100 >= next_centisecond, timeout=1, what="the next centisecond")  # noqa: B023
    return keys, number, ids


# GET /v2.1/messages/{id}


def test_an_sms_record_has_exactly_the_contract_attributes(server: Server) -> None:
    keys, number = fresh(server)
    with server.client(keys) as client:
        message_id = sent_id(send(client, to=OFF_NET, from_=number, body="test sms on v2"))
        response = client.get(f"/v2.1/messages/{message_id}")
    assert response.status_code == 200
    assert response.headers["content-type"] == JSONAPI
    document = response.json()
    assert set(document) == {"data"}
    assert set(document["data"]) == {"type", "id", "attributes"}
    assert (document["data"]["type"], document["data"]["id"]) == ("message", message_id)
    attributes = document["data"]["attributes"]
    assert set(attributes) == MDR_KEYS
    status, receipts = attributes.pop("status"), attributes.pop("delivery_receipts")
    timestamp = attributes.pop("timestamp")
    assert attributes == {
        "body": "test sms on v2",
        "direction": "outbound",
        "amount_nanodollars": 4_000_000,
        "amount_display": "$0.0040",
        "to": OFF_NET,
        "from": number,
        "message_encoding": 0,
        "is_mms": False,
        "message_type": "longcode",
    }
    assert_recent(timestamp)
    # the shared server's simulator takes a second to report: any stage of the way is fine here
    assert status in ("queued", "smsc submit", "delivered")
    assert [receipt["level"] for receipt in receipts] == {"queued": [], "smsc submit": [1], "delivered": [2, 1]}[status]


@pytest.mark.parametrize(
    ("body", "encoding", "amount", "display"),
    [
        ("a" * 160, 0, 4_000_000, "$0.0040"),
        (GSM_161, 0, 8_000_000, "$0.0080"),
        ("{}" * 80, 0, 12_000_000, "$0.0120"),  # 160 characters but 320 septets: 152 + 152 + 16
        ("a" * 307, 0, 12_000_000, "$0.0120"),
        (UNICODE, 8, 4_000_000, "$0.0040"),
        ("你" * 70, 8, 4_000_000, "$0.0040"),
        ("你" * 71, 8, 8_000_000, "$0.0080"),
        ("\U0001f600", 8, 4_000_000, "$0.0040"),
    ],
)
def test_encoding_and_the_price_per_segment(
    server: Server, body: str, encoding: int, amount: int, display: str
) -> None:
    keys, number = fresh(server)
    with server.client(keys) as client:
        attributes = message(client, sent_id(send(client, to=OFF_NET, from_=number, body=body)))["data"]["attributes"]
    assert attributes["body"] == body
    assert attributes["message_encoding"] == encoding
    assert (attributes["amount_nanodollars"], attributes["amount_display"]) == (amount, display)


def test_a_toll_free_sender_makes_a_toll_free_message(server: Server) -> None:
    keys, number = fresh(server, number_type="tollfree")
    assert number[1:4] in {"800", "833", "844", "855", "866", "877", "888"}
    with server.client(keys) as client:
        attributes = message(client, sent_id(send(client, to=OFF_NET, from_=number, body="free")))["data"]["attributes"]
    assert attributes["message_type"] == "toll-free"
    assert attributes["from"] == number


def test_unknown_malformed_and_foreign_message_ids_are_404(server: Server, three: tuple[Keys, str, list[str]]) -> None:
    _, _, ids = three
    stranger = new_account(server)
    unknown = "mdr2-" + "0" * 32
    with server.client(stranger) as client:
        for message_id in (ids[0], unknown, "mdr2-XYZ", ids[0].upper(), "12345"):
            error = error_of(client.get(f"/v2.1/messages/{message_id}"), 404)
            assert error["detail"] == f"message {message_id} was not found on this account"
            assert error["code"] == "not_found"


# GET /v2.1/messages


def test_start_date_is_required(server: Server) -> None:
    keys = new_account(server)
    with server.client(keys) as client:
        for params in ({}, {"start_date": ""}, {"end_date": "2030-01-01"}):
            error = error_of(client.get("/v2.1/messages", params=params), 400)
            assert error["detail"] == "start_date is required (e.g. start_date=2017-12-01)"
            assert error["source"] == {"parameter": "start_date"}


NOT_A_DATE = "must be a date (YYYY-MM-DD) or an ISO 8601 date-time"


@pytest.mark.parametrize(
    ("params", "parameter", "detail"),
    [
        ({"start_date": "yesterday"}, "start_date", f"start_date {NOT_A_DATE}"),
        ({"start_date": "2017-13-01"}, "start_date", f"start_date {NOT_A_DATE}"),
        ({"start_date": "2017-12-01", "end_date": "soon"}, "end_date", f"end_date {NOT_A_DATE}"),
        ({"start_date": "2017-12-02", "end_date": "2017-12-01"}, "end_date", "end_date must not be before start_date"),
        ({"start_date": "0001-01-01T00:00:00+01:00"}, "start_date", f"start_date {NOT_A_DATE}"),
        ({"start_date": "2017-12-01", "limit": "0"}, "limit", "limit must be a positive integer"),
        ({"start_date": "2017-12-01", "limit": "x"}, "limit", "limit must be a positive integer"),
        ({"start_date": "2017-12-01", "offset": "-1"}, "offset", "offset must be a non-negative integer"),
    ],
)  # fmt: skip
def test_bad_list_parameters_are_400(server: Server, params: dict[str, str], parameter: str, detail: str) -> None:
    keys = new_account(server)
    with server.client(keys) as client:
        error = error_of(client.get("/v2.1/messages", params=params), 400)
    assert error["detail"] == detail
    assert error["source"] == {"parameter": parameter}


@pytest.mark.parametrize(
    "start_date",
    [
        "2017-12-01",
        "2017-12-01T00:00:00",
        "2017-12-01T00:00:00Z",
        "2017-12-01T00:00:00+00:00",
        "2017-12-01T00:00:00.000000",
        "2017-12-01T00:00:00.25Z",
        "2017-12-01T00:00:00.123456+00:00",
        "2017-12-01 00:00:00",
    ],
)
def test_every_date_format_of_the_contract_is_accepted(
    server: Server, three: tuple[Keys, str, list[str]], start_date: str
) -> None:
    keys, _, ids = three
    with server.client(keys) as client:
        document = messages(client, start_date=start_date, end_date=start_date.replace("2017", "2099"))
    assert [item["id"] for item in document["data"]] == ids[::-1]


def test_the_list_is_newest_first_without_item_links(server: Server, three: tuple[Keys, str, list[str]]) -> None:
    keys, number, ids = three
    with server.client(keys) as client:
        response = client.get("/v2.1/messages", params={"start_date": "2017-12-01"})
        detail = [message(client, message_id)["data"] for message_id in ids[::-1]]
    assert response.status_code == 200
    assert response.headers["content-type"] == JSONAPI
    document = response.json()
    assert set(document) == {"data", "links"}
    assert [item["id"] for item in document["data"]] == ids[::-1]
    for item, single in zip(document["data"], detail, strict=True):
        assert set(item) == {"type", "id", "attributes"}
        assert set(item["attributes"]) == MDR_KEYS
        assert item["type"] == "message"
        assert {**item["attributes"], "status": None, "delivery_receipts": None} == {
            **single["attributes"],
            "status": None,
            "delivery_receipts": None,
        }
    assert [item["attributes"]["body"] for item in document["data"]] == ["message 2", "message 1", "message 0"]
    assert all(item["attributes"]["from"] == number for item in document["data"])
    stamps = [item["attributes"]["timestamp"] for item in document["data"]]
    assert stamps == sorted(stamps, reverse=True)
    assert len(set(stamps)) == 3


def link(server: Server, **pairs: Any) -> str:
    """The contract's message-list link: limit, start_date, [end_date,] offset, percent-encoded."""
    query = "&".join(f"{key}={quote(str(value), safe='')}" for key, value in pairs.items())
    return f"{server.url}/v2.1/messages?{query}"


def test_limit_offset_and_the_next_link(server: Server, three: tuple[Keys, str, list[str]]) -> None:
    keys, _, ids = three
    newest_first = ids[::-1]
    start = "2017-12-01T00:00:00+00:00"
    with server.client(keys) as client:
        first = messages(client, start_date="2017-12-01", limit=2)
        assert [item["id"] for item in first["data"]] == newest_first[:2]
        assert first["links"] == {
            "self": link(server, limit=2, start_date=start, offset=0),
            "next": link(server, limit=2, start_date=start, offset=2),
        }
        assert first["links"]["next"] == (
            f"{server.url}/v2.1/messages?limit=2&start_date=2017-12-01T00%3A00%3A00%2B00%3A00&offset=2"
        )
        second = client.get(first["links"]["next"]).json()
        assert [item["id"] for item in second["data"]] == newest_first[2:]
        assert second["links"] == {"self": link(server, limit=2, start_date=start, offset=2)}

        exact = messages(client, start_date="2017-12-01", limit=3)
        assert [item["id"] for item in exact["data"]] == newest_first
        assert "next" not in exact["links"]

        middle = messages(client, start_date="2017-12-01", limit=1, offset=1)
        assert [item["id"] for item in middle["data"]] == newest_first[1:2]
        assert middle["links"]["next"] == link(server, limit=1, start_date=start, offset=2)

        beyond = messages(client, start_date="2017-12-01", offset=3)
        assert beyond["data"] == []
        assert beyond["links"] == {"self": link(server, limit=100, start_date=start, offset=3)}

        clamped = messages(client, start_date="2017-12-01", limit=5000)
        assert clamped["links"] == {"self": link(server, limit=1000, start_date=start, offset=0)}


def test_links_echo_dates_as_utc_seconds(server: Server, three: tuple[Keys, str, list[str]]) -> None:
    keys, _, _ = three
    with server.client(keys) as client:
        document = messages(
            client, start_date="2017-12-01T10:20:30.5", end_date="2099-01-02T03:04:05.678+02:00", limit=1
        )
    assert document["links"] == {
        "self": link(
            server, limit=1, start_date="2017-12-01T10:20:30+00:00", end_date="2099-01-02T01:04:05+00:00", offset=0
        ),
        "next": link(
            server, limit=1, start_date="2017-12-01T10:20:30+00:00", end_date="2099-01-02T01:04:05+00:00", offset=1
        ),
    }


def test_a_next_link_from_year_one_is_followable(server: Server, three: tuple[Keys, str, list[str]]) -> None:
    keys, _, ids = three
    with server.client(keys) as client:
        first = messages(client, start_date="0001-01-01", limit=2)
        assert first["links"]["next"] == link(server, limit=2, start_date="0001-01-01T00:00:00+00:00", offset=2)
        second = client.get(first["links"]["next"])
    assert second.status_code == 200, second.text
    assert [item["id"] for item in second.json()["data"]] == ids[:1]


def test_start_date_is_inclusive_and_end_date_exclusive(server: Server, three: tuple[Keys, str, list[str]]) -> None:
    keys, _, ids = three
    with server.client(keys) as client:
        stamps = [message(client, message_id)["data"]["attributes"]["timestamp"] for message_id in ids]

        def listed(**params: str) -> list[str]:
            return [item["id"] for item in messages(client, **params)["data"]]

        # each timestamp is its message's creation time truncated to the centisecond, each in its own centisecond
        assert listed(start_date=stamps[1]) == [ids[2], ids[1]]
        assert listed(start_date=stamps[0], end_date=stamps[2]) == [ids[1], ids[0]]
        assert listed(start_date=stamps[0], end_date=stamps[1]) == [ids[0]]
        assert listed(start_date=stamps[1], end_date=stamps[1]) == []
        assert listed(start_date="2017-12-01", end_date="2017-12-02") == []
        assert listed(start_date="2099-01-01") == []


def test_one_account_never_lists_anothers_messages(server: Server, three: tuple[Keys, str, list[str]]) -> None:
    stranger = new_account(server)
    with server.client(stranger) as client:
        assert messages(client, start_date="2000-01-01")["data"] == []


def test_unauthenticated_reads_are_401(server: Server, three: tuple[Keys, str, list[str]]) -> None:
    _, _, ids = three
    with loopback.client(base_url=server.url, timeout=10) as client:
        error_of(client.get("/v2.1/messages", params={"start_date": "2017-12-01"}), 401)
        error_of(client.get(f"/v2.1/messages/{ids[0]}"), 401)
