"""`Idempotency-Key` on POST /v2.1/messages over real sockets."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import httpx

from tests.support.messaging import Keys, buy_number, error_of, messages, new_account, send, sent_id
from tests.support.server import Server

OFF_NET = "13125550123"


def fresh(server: Server) -> tuple[Keys, str]:
    keys = new_account(server)
    with server.client(keys) as client:
        return keys, buy_number(client)


def test_the_same_key_and_body_replays_the_first_answer(server: Server) -> None:
    keys, number = fresh(server)
    key = {"Idempotency-Key": "order-1234"}
    with server.client(keys) as client:
        first = send(client, key, to=OFF_NET, from_=number, body="once")
        again = send(client, key, to=OFF_NET, from_=number, body="once")
        third = send(client, key, to=OFF_NET, from_=number, body="once")
        listed = messages(client)["data"]
    assert first.status_code == again.status_code == third.status_code == 202
    assert again.content == first.content
    assert third.content == first.content
    assert again.headers["content-type"] == "application/vnd.api+json"
    assert again.headers["idempotent-replayed"] == "true"
    assert "idempotent-replayed" not in first.headers
    assert [item["id"] for item in listed] == [sent_id(first)]


def test_the_same_key_with_another_body_is_422(server: Server) -> None:
    keys, number = fresh(server)
    key = {"Idempotency-Key": "order-5678"}
    with server.client(keys) as client:
        first = send(client, key, to=OFF_NET, from_=number, body="first")
        other = send(client, key, to=OFF_NET, from_=number, body="second")
        listed = messages(client)["data"]
    error = error_of(other, 422)
    assert error["detail"] == "Idempotency-Key was already used with a different request body"
    assert error["code"] == "idempotency_mismatch"
    assert [item["id"] for item in listed] == [sent_id(first)]


def test_keys_are_per_key_and_per_account(server: Server) -> None:
    (alice, alice_number), (bob, bob_number) = fresh(server), fresh(server)
    with server.client(alice) as alice_client, server.client(bob) as bob_client:
        one = sent_id(send(alice_client, {"Idempotency-Key": "k1"}, to=OFF_NET, from_=alice_number, body="a"))
        two = sent_id(send(alice_client, {"Idempotency-Key": "k2"}, to=OFF_NET, from_=alice_number, body="a"))
        bobs = sent_id(send(bob_client, {"Idempotency-Key": "k1"}, to=OFF_NET, from_=bob_number, body="a"))
        plain = [sent_id(send(alice_client, to=OFF_NET, from_=alice_number, body="a")) for _ in range(2)]
        assert {item["id"] for item in messages(alice_client)["data"]} == {one, two, *plain}
        assert [item["id"] for item in messages(bob_client)["data"]] == [bobs]
    assert len({one, two, bobs, *plain}) == 5


def test_replays_take_nothing_from_the_rate_limit(server: Server) -> None:
    keys, number = fresh(server)
    key = {"Idempotency-Key": "replayed"}
    with server.client(keys) as client:
        first = send(client, key, to=OFF_NET, from_=number, body="x")
        replays = [send(client, key, to=OFF_NET, from_=number, body="x") for _ in range(10)]
        others = [send(client, to=OFF_NET, from_=number, body=f"other {index}") for index in range(4)]
    assert [response.status_code for response in [first, *replays, *others]] == [202] * 15
    assert {response.content for response in replays} == {first.content}


def test_concurrent_requests_with_one_key_make_one_message(server: Server) -> None:
    keys, number = fresh(server)
    count = 8
    start = threading.Barrier(count)

    def one(_: int) -> httpx.Response:
        with server.client(keys) as client:
            start.wait(timeout=10)
            return send(client, {"Idempotency-Key": "race"}, to=OFF_NET, from_=number, body="race")

    with ThreadPoolExecutor(max_workers=count) as pool:
        responses = list(pool.map(one, range(count)))
    with server.client(keys) as client:
        listed = messages(client)["data"]
    assert [response.status_code for response in responses] == [202] * count
    assert len({response.content for response in responses}) == 1
    assert [item["id"] for item in listed] == [sent_id(responses[0])]
    assert sum("idempotent-replayed" not in response.headers for response in responses) == 1


def test_a_malformed_key_is_400(server: Server) -> None:
    keys, number = fresh(server)
    with server.client(keys) as client:
        for bad in ("x" * 256, "caf\u00e9", "tab\there"):
            response = client.post(
                "/v2.1/messages",
                json={"to": OFF_NET, "from": number, "body": "x"},
                headers=[(b"Idempotency-Key", bad.encode("latin-1"))],
            )
            error = error_of(response, 400)
            assert error["detail"] == "Idempotency-Key must be 1 to 255 printable ASCII characters"
        accepted = send(client, {"Idempotency-Key": "x" * 255}, to=OFF_NET, from_=number, body="x")
        assert accepted.status_code == 202
        assert [item["id"] for item in messages(client)["data"]] == [sent_id(accepted)]
