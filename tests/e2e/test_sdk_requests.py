"""The requests of the official SDKs' controllers, replayed byte for byte where it matters.

flowroute-sdk-v3-python (`requests`): messages sent as `application/vnd.api+json; charset=utf-8` with a
JSON string body, MDR date ranges as `isoformat()` without a zone, `accept: application/json`; routes
listed with no headers at all.
flowroute-sdk-v3-nodejs (`request`): messages sent as `application/json; charset=utf-8`, MDR date ranges
from `moment().format()` (a zone offset such as `-08:00`) encoded with `encodeURIComponent`, no
`accept` on the list."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta, timezone
from urllib.parse import quote

import httpx

from tests.e2e.conftest import route_zero
from tests.support import loopback

Buy = Callable[[httpx.Client, str], str]
OFF_NET = "13125550123"
USER_AGENT = {"user-agent": "Flowroute SDK v3.0"}
PACIFIC = timezone(timedelta(hours=-8))


def _node_send(client: httpx.Client, number: str) -> str:
    # MessagesController.createSendAMessage with the body of the SDK's demo.js (an SMS here)
    body = {"data": {"type": "message", "attributes": {"to": OFF_NET, "from": number, "body": "hello there"}}}
    headers = {"content-type": "application/json; charset=utf-8", **USER_AGENT}
    response = client.post("/v2.1/messages", content=json.dumps(body, separators=(",", ":")), headers=headers)
    assert response.status_code == 202, response.text
    message_id: str = response.json()["data"]["id"]
    return message_id


def _python_send(client: httpx.Client, number: str) -> str:
    # MessagesController.send_a_message(body): json_serialize(json.loads(body)) posted as data=
    body = json.dumps({"data": {"type": "message", "attributes": {"to": OFF_NET, "from": number, "body": "hi"}}})
    headers = {
        "accept": "application/vnd.api+json",
        "content-type": "application/vnd.api+json; charset=utf-8",
        **USER_AGENT,
    }
    response = client.post("/v2.1/messages", content=json.dumps(json.loads(body)), headers=headers)
    assert response.status_code == 202, response.text
    message_id: str = response.json()["data"]["id"]
    return message_id


def _node_list(client: httpx.Client, start: datetime, end: datetime) -> list[str]:
    # getLookUpASetOfMessages(startDate, endDate, limit): moment's format() and encodeURIComponent
    def encoded(moment: datetime) -> str:
        return quote(moment.isoformat(timespec="seconds"), safe="")

    url = f"/v2.1/messages?start_date={encoded(start)}&end_date={encoded(end)}&limit=10"
    response = client.get(url, headers=USER_AGENT)
    assert response.status_code == 200, response.text
    return [item["id"] for item in response.json()["data"]]


def _python_list(client: httpx.Client, start: datetime) -> list[str]:
    # look_up_a_set_of_messages(start_date, limit=10): a naive datetime's isoformat(), no zone (UTC)
    params = {"start_date": start.replace(tzinfo=None).isoformat(), "limit": "10"}
    response = client.get("/v2.1/messages", params=params, headers={"accept": "application/json", **USER_AGENT})
    assert response.status_code == 200, response.text
    return [item["id"] for item in response.json()["data"]]


def test_both_sdks_send_and_find_their_messages(api: httpx.Client, buy: Buy) -> None:
    number = buy(api, "1808")
    before = datetime.now(UTC) - timedelta(minutes=1)
    sent = [_python_send(api, number), _node_send(api, number)]
    after = datetime.now(UTC) + timedelta(minutes=1)
    assert _python_list(api, before) == sent[::-1]
    assert _node_list(api, before.astimezone(PACIFIC), after.astimezone(PACIFIC)) == sent[::-1]
    for message_id in sent:  # look_up_a_message_detail_record / lookUpAMessageDetailRecord
        response = api.get(f"/v2.1/messages/{message_id}", headers={"accept": "application/json", **USER_AGENT})
        assert response.status_code == 200 and response.json()["data"]["attributes"]["from"] == number


def test_node_date_offsets_are_honoured(api: httpx.Client, buy: Buy) -> None:
    # Read without its offset, a Pacific time would be 8 hours off: each of these would then find the message.
    message_id = _node_send(api, buy(api, "1808"))
    now = datetime.now(UTC)
    assert _node_list(
        api, (now - timedelta(minutes=5)).astimezone(PACIFIC), (now + timedelta(minutes=5)).astimezone(PACIFIC)
    ) == [message_id]
    assert (
        _node_list(
            api, (now + timedelta(minutes=30)).astimezone(PACIFIC), (now + timedelta(hours=9)).astimezone(PACIFIC)
        )
        == []
    )
    assert (
        _node_list(
            api, (now - timedelta(hours=9)).astimezone(PACIFIC), (now - timedelta(minutes=30)).astimezone(PACIFIC)
        )
        == []
    )


def test_python_sdk_lists_routes_led_by_route_zero(api: httpx.Client, base: str) -> None:
    # RoutesController.list_inbound_routes(limit=3): GET with no headers; the demo takes data[0] as route 0.
    created = api.post("/v2/routes", json={"route_type": "host", "value": "sip.example.com", "alias": "a"})
    assert created.status_code == 201, created.text
    document = loopback.get(f"{base}/v2/routes?limit=3", auth=api.auth).json()
    assert document["data"][0] == route_zero(base)
    assert document["data"][1]["id"] == created.json()["data"]["id"]
