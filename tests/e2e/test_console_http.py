"""The console's pages and JSON endpoints over plain HTTP on the shared server (both databases):
sessions, CSRF, compose and simulated replies, bad input as JSON:API errors, and one account learning
nothing of another's, the live stream included."""

from __future__ import annotations

import asyncio
import queue
import re
from collections.abc import Callable, Iterator

import httpx
import pytest

from telroute.accounts import service as accounts_service
from telroute.kit import db as dbkit
from tests.e2e.conftest import make_account
from tests.support import loopback
from tests.support.console_numbers import HOSTILE_LABEL, give_e911_and_cnam
from tests.support.console_session import Events, signed_in
from tests.support.databases import database_url_for
from tests.support.receiver import Receiver
from tests.support.server import Server

CONSOLE_PREFIX = "1208"  # numbers this module buys (no other module reads 208)

Keys = tuple[str, str]
Buy = Callable[[httpx.Client, str], str]


@pytest.fixture
def console(server: Server, keys: Keys) -> Iterator[httpx.Client]:
    client = signed_in(server.url, keys)
    yield client
    client.close()


def _csrf(console: httpx.Client) -> str:
    page = console.get("/console")
    token = re.search(r'name="csrf-token" content="([^"]+)"', page.text)
    assert token is not None, page.text
    return token.group(1)


def _post(console: httpx.Client, path: str, body: dict[str, str]) -> httpx.Response:
    return console.post(path, json=body, headers={"X-CSRF-Token": _csrf(console)})


def _error(answer: httpx.Response, status: int) -> dict[str, object]:
    assert answer.status_code == status, answer.text
    error: dict[str, object] = answer.json()["errors"][0]
    return error


def test_compose_sends_from_an_owned_number_only_and_the_sandbox_simulates_the_reply(
    console: httpx.Client, api: httpx.Client, buy: Buy
) -> None:
    number = buy(api, CONSOLE_PREFIX)
    sent = _post(console, "/console/api/messages", {"from": number, "to": "12025550123", "body": "from the console"})
    assert sent.status_code == 200, sent.text
    assert api.get(f"/v2.1/messages/{sent.json()['id']}").json()["data"]["attributes"]["body"] == "from the console"
    refused = _post(console, "/console/api/messages", {"from": "12025550199", "to": "12025550123", "body": "x"})
    assert _error(refused, 403)["source"] == {"pointer": "/from"}
    reply = _post(console, "/console/api/inbound", {"from": "12025550123", "to": number, "body": "a reply"})
    assert reply.status_code == 200, reply.text
    listed = console.get("/console/api/messages", params={"q": "direction:inbound"}).json()["messages"]
    assert [(m["body"], m["from"], m["to"]) for m in listed] == [("a reply", "12025550123", number)]
    thread = console.get("/console/api/conversation", params={"a": number, "b": "12025550123"}).json()
    assert [m["body"] for m in thread["messages"]] == ["from the console", "a reply"]


def test_compose_refuses_a_subscriber_who_opted_out_as_the_api_does(
    console: httpx.Client, api: httpx.Client, buy: Buy
) -> None:
    number, subscriber = buy(api, CONSOLE_PREFIX), "12025550124"
    stop = _post(console, "/console/api/inbound", {"from": subscriber, "to": number, "body": "STOP"})
    assert stop.status_code == 200, stop.text
    refused = _post(console, "/console/api/messages", {"from": number, "to": subscriber, "body": "still there?"})
    assert _error(refused, 400)["code"] == "1110"
    by_api = api.post("/v2.1/messages", json={"from": number, "to": subscriber, "body": "still there?"})
    assert _error(by_api, 400)["code"] == "1110"
    assert (
        _post(console, "/console/api/inbound", {"from": subscriber, "to": number, "body": "START"}).status_code == 200
    )
    sent = _post(console, "/console/api/messages", {"from": number, "to": subscriber, "body": "welcome back"})
    assert sent.status_code == 200, sent.text


def test_bad_input_is_a_json_api_error_naming_it(console: httpx.Client) -> None:
    assert _error(console.get("/console/api/messages", params={"q": "after:soon"}), 400)["source"] == {"parameter": "q"}
    assert _error(console.get("/console/api/messages", params={"offset": "-1"}), 400)["source"] == {
        "parameter": "offset"
    }
    assert _error(console.get("/console/api/conversation", params={"a": "x", "b": "1"}), 400)["source"] == {
        "parameter": "a"
    }
    assert _error(_post(console, "/console/api/messages", {"to": 5}), 400)  # type: ignore[dict-item]
    assert _error(console.post("/console/api/messages", content=b"[", headers={"X-CSRF-Token": _csrf(console)}), 400)
    assert _error(console.get("/console/api/messages/mdr2-nothing"), 404)
    assert _error(console.post("/console/api/dead-letters/x/replay", headers={"X-CSRF-Token": _csrf(console)}), 404)


def test_the_calculator_counts_segments_and_marks_what_forced_ucs2(console: httpx.Client) -> None:
    found = console.get("/console/api/calculate", params={"text": "héllo ✓ " + "y" * 70}).json()
    assert (found["encoding"], found["segment_count"], found["price"]) == ("UCS-2", 2, "$0.0080")
    assert found["ucs2_characters"] == ["✓"]
    assert "".join(found["parts"]) == "héllo ✓ " + "y" * 70
    assert console.get("/console/api/calculate", params={"text": "plain"}).json()["ucs2_characters"] == []


def test_another_account_learns_nothing_in_the_page_the_api_or_the_stream(
    server: Server, api: httpx.Client, buy: Buy, console: httpx.Client
) -> None:
    number = buy(api, CONSOLE_PREFIX)
    theirs = api.post("/v2.1/messages", json={"to": "12025550100", "from": number, "body": "owner only"})
    message_id = theirs.json()["data"]["id"]
    other = signed_in(server.url, make_account(server, "stranger"))
    try:
        assert _error(other.get(f"/console/api/messages/{message_id}"), 404)
        assert other.get("/console/api/messages").json()["messages"] == []
        assert other.get("/console/api/numbers").json()["numbers"] == []
        assert other.get("/console/api/conversation", params={"a": number, "b": "12025550100"}).json()["messages"] == []
        reply = _post(other, "/console/api/inbound", {"from": "12025550100", "to": number, "body": "x"})
        assert _error(reply, 404)["source"] == {"parameter": "to"}
        events = Events(other)
        events.next(timeout=5)  # a stream starts with the account's marker
        api.post("/v2.1/messages", json={"to": "12025550100", "from": number, "body": "still owner only"})
        assert console.get("/console/api/messages").json()["messages"][0]["body"] == "still owner only"
        with pytest.raises(queue.Empty):
            events.next(timeout=1.5)
    finally:
        other.close()


def _point_at(server: Server, number: str, address: str, preset: str) -> None:
    """Make a number's id columns name another account's address and preset (no API allows it)."""

    async def point() -> None:
        database = await dbkit.connect(database_url_for(server.data_dir), pool_size=1)
        try:
            async with database.transaction() as connection:
                await connection.execute(
                    dbkit.sql("UPDATE numbers SET e911_address_id = :a, cnam_preset_id = :c WHERE value = :n"),
                    {"a": int(address), "c": int(preset), "n": number},
                )
        finally:
            await database.close()

    asyncio.run(point())


def test_numbers_show_their_e911_address_and_caller_name_to_their_account_alone(
    server: Server, api: httpx.Client, buy: Buy, console: httpx.Client
) -> None:
    number = buy(api, CONSOLE_PREFIX)
    address, preset = give_e911_and_cnam(server, api, number, "ACME PLUMBING")
    (shown,) = console.get("/console/api/numbers").json()["numbers"]
    assert shown["value"] == number and shown["cnam"] == "ACME PLUMBING"
    assert shown["e911"] == {"label": HOSTILE_LABEL, "address": "7742 20th Ave SW, Seattle, WA 98106"}
    stranger = make_account(server, "stranger")
    with server.client(stranger) as stranger_api:
        theirs = buy(stranger_api, CONSOLE_PREFIX)
        assert stranger_api.get(f"/v2/e911s/{address}").status_code == 404
    _point_at(server, theirs, address, preset)
    other = signed_in(server.url, stranger)
    try:
        (listed,) = other.get("/console/api/numbers").json()["numbers"]
        assert (listed["value"], listed["e911"], listed["cnam"]) == (theirs, None, None)
    finally:
        other.close()


def test_state_changes_and_sign_in_need_their_csrf_tokens(server: Server, keys: Keys, console: httpx.Client) -> None:
    assert _error(console.post("/console/api/messages", json={}), 403)["code"] == "csrf"
    assert _error(console.post("/console/sign-out", data={"csrf": "wrong"}), 403)["code"] == "csrf"
    with loopback.client(base_url=server.url) as fresh:  # no sign-in page seen, so no pre-session token
        refused = fresh.post("/console/sign-in", data={"csrf": "x", "access_key": keys[0], "secret_key": keys[1]})
        assert refused.status_code == 403 and "telroute_console=" not in refused.headers.get("set-cookie", "")
    out = console.post("/console/sign-out", data={"csrf": _csrf(console)})
    assert out.status_code == 303
    assert _error(console.get("/console/api/messages"), 401)


def test_a_session_ends_when_the_secret_is_rotated_and_keys_stay_out_of_the_log(
    server: Server, keys: Keys, console: httpx.Client
) -> None:
    assert console.get("/console/api/messages").status_code == 200
    assert keys[1] not in server.output()

    async def rotate() -> None:
        database = await dbkit.connect(database_url_for(server.data_dir), pool_size=1)
        try:
            async with database.transaction() as connection:
                await accounts_service.rotate_secret(connection, keys[0])
        finally:
            await database.close()

    asyncio.run(rotate())
    assert _error(console.get("/console/api/messages"), 401)["code"] == "console_session"
    assert "Access key" in console.get("/console").text  # back to the sign-in page


def test_an_mms_shows_its_image_to_its_account_alone(
    server: Server, api: httpx.Client, buy: Buy, console: httpx.Client, media_host: Receiver
) -> None:
    image = b"\x89PNG\r\n\x1a\n" + bytes(range(200))
    url = media_host.serve("/console/cat.png", image, content_type="image/png")
    number = buy(api, CONSOLE_PREFIX)
    body = {"to": "12025550100", "from": number, "body": "a cat", "is_mms": True, "media_urls": [url]}
    message_id = api.post("/v2.1/messages", json=body).json()["data"]["id"]
    (media,) = console.get(f"/console/api/messages/{message_id}").json()["media"]
    assert (media["file_name"], media["mime_type"], media["size"]) == ("cat.png", "image/png", len(image))
    preview = console.get(f"/console/api/media/{media['id']}")
    assert preview.content == image and preview.headers["content-type"] == "image/png"
    assert "sandbox" in preview.headers["content-security-policy"]
    other = signed_in(server.url, make_account(server, "stranger"))
    try:
        assert _error(other.get(f"/console/api/media/{media['id']}"), 404)
    finally:
        other.close()


def test_the_cookies_are_secure_behind_https(server: Server) -> None:
    plain = loopback.get(f"{server.url}/console")
    behind_https = loopback.get(f"{server.url}/console", headers={"X-Forwarded-Proto": "https"})
    assert "secure" not in plain.headers["set-cookie"].lower()
    assert "; secure" in behind_https.headers["set-cookie"].lower()
