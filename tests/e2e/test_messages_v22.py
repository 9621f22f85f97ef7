"""Messages v2.2: v2.1's behaviour with E.164 numbers, over the same records; v2.2's callback settings.

Requests as Flowroute's v2.2 reference shows them (`POST /v2.2/messages` with `+1...` numbers, JSON:API or
flat) and as the SDKs' transport sends them (content types `application/vnd.api+json; charset=utf-8` and
`application/json; charset=utf-8`)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import pytest

from tests.e2e.conftest import assert_error
from tests.support.receiver import Receiver, sized_content

Buy = Callable[[httpx.Client, str], str]
OFF_NET = "13125550123"
JSONAPI_BODY = {"content-type": "application/vnd.api+json; charset=utf-8", "accept": "application/vnd.api+json"}
JSON_BODY = {"content-type": "application/json; charset=utf-8", "user-agent": "Flowroute SDK v3.0"}


def _send_v22(client: httpx.Client, number: str, body: str, headers: dict[str, str] = JSONAPI_BODY) -> str:
    attributes = {"to": f"+{OFF_NET}", "from": f"+{number}", "body": body}
    response = client.post(
        "/v2.2/messages", json={"data": {"type": "message", "attributes": attributes}}, headers=headers
    )
    assert response.status_code == 202, response.text
    message_id: str = response.json()["data"]["id"]
    return message_id


def test_send_through_v22_answers_with_a_v22_link(api: httpx.Client, buy: Buy, base: str) -> None:
    number = buy(api, "1808")
    attributes = {"to": f"+{OFF_NET}", "from": f"+{number}", "body": "hello v2.2"}
    response = api.post("/v2.2/messages", json=attributes, headers=JSON_BODY)
    assert response.status_code == 202, response.text
    message_id = response.json()["data"]["id"]
    assert response.json() == {
        "data": {"id": message_id, "type": "message", "links": {"self": f"{base}/v2.2/messages/{message_id}"}}
    }


def test_v21_and_v22_are_two_views_of_one_record(api: httpx.Client, buy: Buy, base: str) -> None:
    number = buy(api, "1808")
    v22_id = _send_v22(api, number, "sent through v2.2")
    v21 = api.post("/v2.1/messages", json={"to": OFF_NET, "from": number, "body": "sent through v2.1"})
    v21_id = v21.json()["data"]["id"]
    for message_id in (v22_id, v21_id):
        old = api.get(f"/v2.1/messages/{message_id}", headers={"accept": "application/json"}).json()["data"]
        new = api.get(f"/v2.2/messages/{message_id}").json()["data"]
        assert (old["attributes"]["to"], old["attributes"]["from"]) == (OFF_NET, number)
        assert (new["attributes"]["to"], new["attributes"]["from"]) == (f"+{OFF_NET}", f"+{number}")
        for view in (old, new):
            for name in ("to", "from", "delivery_receipts", "status"):  # status and receipts move on meanwhile
                view["attributes"].pop(name)
        assert old == new
    listed = api.get("/v2.2/messages", params={"start_date": "2000-01-01", "limit": 1}).json()
    assert [item["id"] for item in listed["data"]] == [v21_id]
    assert listed["data"][0]["attributes"]["to"] == f"+{OFF_NET}"
    assert listed["links"]["self"].startswith(f"{base}/v2.2/messages?")
    assert listed["links"]["next"].startswith(f"{base}/v2.2/messages?")
    following = api.get(listed["links"]["next"]).json()
    assert [item["id"] for item in following["data"]] == [v22_id]


def test_another_accounts_message_is_404_in_v22(api: httpx.Client, stranger: httpx.Client, buy: Buy) -> None:
    message_id = _send_v22(api, buy(api, "1808"), "private")
    assert_error(stranger.get(f"/v2.2/messages/{message_id}"), 404)
    assert stranger.get("/v2.2/messages", params={"start_date": "2000-01-01"}).json()["data"] == []


@pytest.mark.parametrize(
    ("attributes", "pointer"),
    [
        ({"to": OFF_NET}, "/to"),  # v2.1's spelling is not E.164
        ({"to": "+1312555012x"}, "/to"),
        ({"to": "+"}, "/to"),
        ({"from": "12065550100"}, "/from"),
        ({"to": 13125550123}, "/to"),
        ({"to": None}, "/to"),
    ],
)
def test_numbers_that_are_not_e164_are_refused(
    api: httpx.Client, buy: Buy, attributes: dict[str, Any], pointer: str
) -> None:
    number = buy(api, "1808")
    body = {"to": f"+{OFF_NET}", "from": f"+{number}", "body": "x", **attributes}
    response = api.post("/v2.2/messages", json=body)
    assert response.status_code in (400, 422), response.text
    assert_error(response, response.status_code, pointer=pointer)
    wrapped = api.post("/v2.2/messages", json={"data": {"attributes": body}})
    assert_error(wrapped, response.status_code, pointer=f"/data/attributes{pointer}")


def test_sending_from_a_number_not_owned_is_403(api: httpx.Client) -> None:
    response = api.post("/v2.2/messages", json={"to": f"+{OFF_NET}", "from": "+12065550100", "body": "x"})
    assert_error(response, 403)


@pytest.mark.parametrize("content", [b"", b"{", b"[1]", b'{"data": 5}', b'{"data": {"attributes": []}}'])
def test_malformed_bodies_are_400(api: httpx.Client, content: bytes) -> None:
    assert_error(api.post("/v2.2/messages", content=content, headers=JSON_BODY), 400)


def test_list_needs_a_start_date_and_reads_zone_offsets(api: httpx.Client) -> None:
    assert_error(api.get("/v2.2/messages"), 400, parameter="start_date")
    assert_error(api.get("/v2.2/messages", params={"start_date": "yesterday"}), 400, parameter="start_date")
    assert api.get("/v2.2/messages", params={"start_date": "2026-01-01T00:00:00-08:00"}).status_code == 200


@pytest.mark.parametrize("callback_type", ["sms_callback", "mms_callback", "sms_dlr_callback", "mms_dlr_callback"])
def test_v22_callback_settings_are_204(api: httpx.Client, callback_type: str) -> None:
    body = {"data": {"attributes": {"callback_url": "https://customer.example/cb"}}}
    response = api.put(f"/v2.2/messages/{callback_type}", json=body, headers=JSONAPI_BODY)
    assert response.status_code == 204, response.text
    assert response.content == b""
    assert api.put(f"/v2.2/messages/{callback_type}", json={"callback_url": None}).status_code == 204


def test_v22_callback_errors(api: httpx.Client) -> None:
    url = {"callback_url": "https://customer.example/cb"}
    assert_error(api.put("/v2.2/messages/dlr_callback", json=url), 404)  # deprecated in v2.1, gone in v2.2
    assert_error(api.put("/v2.2/messages/fax_callback", json=url), 404)
    assert_error(api.put("/v2.2/messages/sms_callback", json={"callback_url": "not a url"}), 400)
    assert_error(api.put("/v2.2/messages/sms_callback", content=b"{"), 400)
    assert_error(api.post("/v2.2/messages/sms_callback", json=url), 405)


def test_an_idempotent_v22_send_replays_its_v22_answer(api: httpx.Client, buy: Buy, base: str) -> None:
    body = {"to": f"+{OFF_NET}", "from": f"+{buy(api, '1808')}", "body": "once"}
    headers = {"Idempotency-Key": "v22-once"}
    first = api.post("/v2.2/messages", json=body, headers=headers)
    again = api.post("/v2.2/messages", json=body, headers=headers)
    assert first.status_code == again.status_code == 202
    assert again.headers["idempotent-replayed"] == "true" and again.json() == first.json()
    assert first.json()["data"]["links"]["self"].startswith(f"{base}/v2.2/messages/")
    assert_error(api.post("/v2.1/messages", json=body, headers=headers), 422)  # the key is taken by another request
    assert len(api.get("/v2.2/messages", params={"start_date": "2000-01-01"}).json()["data"]) == 1


def test_an_mms_read_through_v22_links_its_media_under_v22(
    api: httpx.Client, stranger: httpx.Client, buy: Buy, base: str, media_host: Receiver
) -> None:
    picture = media_host.serve("/v22/cat.png", sized_content(700), content_type="image/png")
    number = buy(api, "1808")
    body = {"to": f"+{OFF_NET}", "from": f"+{number}", "media_urls": [picture], "is_mms": True}
    message_id = api.post("/v2.2/messages", json={"data": {"type": "message", "attributes": body}}).json()["data"]["id"]
    document = api.get(f"/v2.2/messages/{message_id}").json()
    [media] = document["included"]
    assert media["links"]["self"] == f"{base}/v2.2/media/{media['id']}"
    assert api.get(f"/v2.1/messages/{message_id}").json()["included"][0]["links"]["self"].startswith(f"{base}/v2.1/")
    fetched = api.get(media["links"]["self"])
    assert fetched.status_code == 200 and fetched.headers["content-type"] == "image/png"
    assert fetched.content == sized_content(700) == api.get(f"/v2.1/media/{media['id']}").content
    assert_error(stranger.get(f"/v2.2/media/{media['id']}"), 404)
    assert_error(api.get("/v2.2/media/123-nope.png"), 404)
