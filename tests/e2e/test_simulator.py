"""The simulator carrier end to end: receipts by destination, on a server of our own whose simulator
reports after 0.2 s (and, on PostgreSQL, a database of our own, so no other server's worker with
another delay handles these messages)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest

from tests.support.isolated import deployment
from tests.support.messaging import (
    RECEIPT_KEYS,
    TIMESTAMP,
    Keys,
    buy_number,
    message,
    new_account,
    send,
    sent_id,
    wait_for_status,
    wait_until,
)
from tests.support.server import Server

SUBMITTED: dict[str, Any] = {
    "status": "smsc submit",
    "status_code": None,
    "status_code_description": "Message has been sent",
    "level": 1,
}
DELIVERED: dict[str, Any] = {
    "status": "delivered",
    "status_code": 1000,
    "status_code_description": "Message delivered to handset",
    "level": 2,
}


@pytest.fixture(scope="module")
def quick(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    with deployment(tmp_path_factory.mktemp("simulator")) as place:
        running = place.server(TELROUTE_SIMULATOR_RECEIPT_DELAY="0.2").start()
        try:
            yield running
        finally:
            running.terminate()


@pytest.fixture
def sender(quick: Server) -> tuple[Keys, str]:
    keys = new_account(quick)
    with quick.client(keys) as client:
        return keys, buy_number(client)


def without_timestamps(receipts: list[dict[str, Any]]) -> list[dict[str, Any]]:
    for receipt in receipts:
        assert set(receipt) == RECEIPT_KEYS
        assert TIMESTAMP.fullmatch(receipt["timestamp"])
    return [{key: value for key, value in receipt.items() if key != "timestamp"} for receipt in receipts]


def test_a_delivered_message_has_both_receipts_newest_first(quick: Server, sender: tuple[Keys, str]) -> None:
    keys, number = sender
    with quick.client(keys) as client:
        message_id = sent_id(send(client, to="13125551234", from_=number, body="hello"))
        attributes = wait_for_status(client, message_id, "delivered", receipts=2)
    receipts = attributes["delivery_receipts"]
    assert without_timestamps(receipts) == [DELIVERED, SUBMITTED]
    assert attributes["timestamp"] <= receipts[1]["timestamp"] <= receipts[0]["timestamp"]
    assert attributes["amount_nanodollars"] == 4_000_000
    assert attributes["direction"] == "outbound"


@pytest.mark.parametrize(
    ("to", "status", "code", "description"),
    [
        ("13125550001", "undelivered", 1100, "Message could not be delivered to handset"),
        ("13125550002", "expired", 1101, "Message expired before it could be delivered"),
    ],
)
def test_failures_reported_by_the_carrier(
    quick: Server, sender: tuple[Keys, str], to: str, status: str, code: int, description: str
) -> None:
    keys, number = sender
    with quick.client(keys) as client:
        message_id = sent_id(send(client, to=to, from_=number, body="will fail"))
        attributes = wait_for_status(client, message_id, status, receipts=2)
    failed = {"status": status, "status_code": code, "status_code_description": description, "level": 2}
    assert without_timestamps(attributes["delivery_receipts"]) == [failed, SUBMITTED]


def test_0003_is_rejected_at_submit_with_no_level_one_receipt(quick: Server, sender: tuple[Keys, str]) -> None:
    keys, number = sender
    with quick.client(keys) as client:
        message_id = sent_id(send(client, to="13125550003", from_=number, body="refused"))
        attributes = wait_for_status(client, message_id, "rejected")
    assert without_timestamps(attributes["delivery_receipts"]) == [
        {
            "status": "rejected",
            "status_code": 1102,
            "status_code_description": "Message rejected by carrier: destination rejected by the simulator (0003)",
            "level": 2,
        }
    ]


def test_0004_never_gets_a_level_two_receipt(quick: Server, sender: tuple[Keys, str]) -> None:
    keys, number = sender
    with quick.client(keys) as client:
        silent = sent_id(send(client, to="13125550004", from_=number, body="silence"))
        control = sent_id(send(client, to="13125554321", from_=number, body="control"))
        # the control message, sent later with the same delay, has had its level-2 receipt...
        wait_for_status(client, control, "delivered", receipts=2)
        # ...and the silent one stays at level 1 however long one looks (here: five receipt delays)
        looked = 0
        until = time.monotonic() + 1.0
        while time.monotonic() < until or looked < 3:
            attributes = message(client, silent)["data"]["attributes"]
            assert attributes["status"] == "smsc submit"
            assert without_timestamps(attributes["delivery_receipts"]) == [SUBMITTED]
            looked += 1
            time.sleep(0.1)


def test_every_outcome_in_one_burst(quick: Server, sender: tuple[Keys, str]) -> None:
    keys, number = sender
    expected = {
        "13125550001": ("undelivered", [2, 1]),
        "13125550002": ("expired", [2, 1]),
        "13125550003": ("rejected", [2]),
        "13125550005": ("delivered", [2, 1]),
        "13125559999": ("delivered", [2, 1]),
    }
    with quick.client(keys) as client:
        ids = {to: sent_id(send(client, to=to, from_=number, body=f"to {to}")) for to in expected}

        def outcomes() -> dict[str, tuple[str, list[int]]] | None:
            found = {}
            for to, message_id in ids.items():
                attributes = message(client, message_id)["data"]["attributes"]
                found[to] = (attributes["status"], [receipt["level"] for receipt in attributes["delivery_receipts"]])
            return found if found == expected else None

        assert wait_until(outcomes, timeout=15, what="every simulator outcome") == expected


def test_an_on_net_round_trip_between_two_accounts(quick: Server) -> None:
    alice, bob = new_account(quick, "alice"), new_account(quick, "bob")
    with quick.client(alice) as alice_client, quick.client(bob) as bob_client:
        alice_number, bob_number = buy_number(alice_client), buy_number(bob_client)
        sent = sent_id(send(alice_client, to=bob_number, from_=alice_number, body="hi bob"))
        outbound = wait_for_status(alice_client, sent, "delivered", receipts=2)
        inbox = wait_until(
            lambda: bob_client.get("/v2.1/messages", params={"start_date": "2000-01-01"}).json()["data"],
            what="bob's inbound message",
        )
        [inbound] = inbox
        assert bob_client.get(f"/v2.1/messages/{inbound['id']}").json() == {"data": inbound}
        # neither sees the other's record of it
        assert alice_client.get(f"/v2.1/messages/{inbound['id']}").status_code == 404
        assert bob_client.get(f"/v2.1/messages/{sent}").status_code == 404
        alice_list = alice_client.get("/v2.1/messages", params={"start_date": "2000-01-01"}).json()["data"]
        assert [item["id"] for item in alice_list] == [sent]

    assert without_timestamps(outbound["delivery_receipts"]) == [DELIVERED, SUBMITTED]
    assert inbound["id"] != sent
    assert inbound["type"] == "message"
    attributes = inbound["attributes"]
    assert TIMESTAMP.fullmatch(attributes.pop("timestamp"))
    assert attributes == {
        "body": "hi bob",
        "status": "delivered",
        "direction": "inbound",
        "amount_nanodollars": 4_000_000,
        "amount_display": "$0.0040",
        "to": bob_number,
        "from": alice_number,
        "message_encoding": 0,
        "is_mms": False,
        "message_type": "longcode",
        "delivery_receipts": [],
    }
