"""Per-account send rate limits over real sockets (default 5 SMS/s and 1 MMS/s) and `accounts set-limits`."""

from __future__ import annotations

from typing import Any

import httpx

from tests.support.messaging import Keys, buy_number, error_of, messages, new_account, send
from tests.support.server import Server, run_cli

OFF_NET = "13125550123"


def fresh(server: Server) -> tuple[Keys, str]:
    keys = new_account(server)
    with server.client(keys) as client:
        return keys, buy_number(client)


def burst(client: httpx.Client, number: str, count: int, **extra: Any) -> list[httpx.Response]:
    return [send(client, to=OFF_NET, from_=number, body=f"burst {index}", **extra) for index in range(count)]


def assert_rate_limited(response: httpx.Response, detail: str) -> None:
    error = error_of(response, 429)
    assert error["detail"] == detail
    assert error["code"] == "rate_limited"
    assert response.headers["retry-after"] == "1"


def test_a_burst_beyond_five_sms_a_second_is_429(server: Server) -> None:
    keys, number = fresh(server)
    with server.client(keys) as client:
        responses = burst(client, number, 10)
        listed = messages(client)["data"]
    statuses = [response.status_code for response in responses]
    assert statuses[:5] == [202] * 5
    assert 429 in statuses[5:], statuses
    assert set(statuses) == {202, 429}
    for response in responses:
        if response.status_code == 429:
            assert_rate_limited(response, "rate limit exceeded: at most 5 SMS per second")
    # a refused send leaves no record; every accepted one does
    accepted = {response.json()["data"]["id"] for response in responses if response.status_code == 202}
    assert {item["id"] for item in listed} == accepted


def test_one_mms_a_second_and_the_sms_bucket_is_separate(server: Server) -> None:
    keys, number = fresh(server)
    with server.client(keys) as client:
        mms = burst(client, number, 3, is_mms=True)
        sms = burst(client, number, 1)
    assert [response.status_code for response in mms] == [202, 429, 429]
    for response in mms[1:]:
        assert_rate_limited(response, "rate limit exceeded: at most 1 MMS per second")
    assert sms[0].status_code == 202


def test_set_limits_raises_them_on_the_running_server(server: Server) -> None:
    keys, number = fresh(server)
    with server.client(keys) as client:
        before = burst(client, number, 10)  # ten in a row: a busy machine refills a token or two, not five
        assert [response.status_code for response in before][:5] == [202] * 5
        assert 429 in {response.status_code for response in before}

        result = run_cli(
            server.data_dir, "accounts", "set-limits", keys[0], "--sms-per-second", "50", "--mms-per-second", "3"
        )
        assert result.returncode == 0, result.stderr
        assert "limits updated" in result.stdout

        after = burst(client, number, 50)  # a whole second's worth at once: the old rate's debt is gone
        mms = burst(client, number, 8, is_mms="true")
    assert [response.status_code for response in after] == [202] * 50
    assert [response.status_code for response in mms][:3] == [202] * 3
    refused = [response for response in mms if response.status_code == 429]
    assert refused, [response.status_code for response in mms]
    assert_rate_limited(refused[0], "rate limit exceeded: at most 3 MMS per second")
