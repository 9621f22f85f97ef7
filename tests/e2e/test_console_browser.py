"""The console in a real browser (headless Chromium through Playwright) against a real server: sign-in,
a message arriving live, search, one message in full, replaying a dead letter, isolation between
accounts, hostile bodies staying inert, and no JavaScript error on any page.

One server and one browser for the module. SQLite only: what the browser does does not depend on the
database. With TELROUTE_SCREENSHOTS=1 the tests save the main views into docs/console/."""

from __future__ import annotations

import asyncio
import re
import struct
import zlib
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest
from playwright.sync_api import Browser, Page, expect

from telroute.accounts import service as accounts_service
from telroute.kit import db as dbkit
from telroute.kit.clock import system_clock
from tests.support import loopback
from tests.support.browser import WatchedPage, chromium
from tests.support.console_numbers import HOSTILE_LABEL, give_e911_and_cnam
from tests.support.databases import database_url_for
from tests.support.receiver import Receiver
from tests.support.server import Server, free_port

pytestmark = pytest.mark.sqlite_only
HOSTILE = '<script>window.pwned=1</script><img src=x onerror="window.pwned=2">'


@pytest.fixture(scope="module")
def console_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    env = {"TELROUTE_WEBHOOK_BACKOFF": "0.05", "TELROUTE_SIMULATOR_RECEIPT_DELAY": "0.2"}
    running = Server(tmp_path_factory.mktemp("console"), env_extra=env).start()
    yield running
    running.terminate()


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with chromium() as launched:
        yield launched


def _keys(server: Server) -> tuple[str, str]:
    """A fresh account, made through the accounts service here (the CLI costs a second of start-up)."""

    async def create() -> tuple[str, str]:
        database = await dbkit.connect(database_url_for(server.data_dir), pool_size=1)
        try:
            async with database.transaction() as connection:
                keys = await accounts_service.create(connection, "console", now=system_clock())
        finally:
            await database.close()
        return keys.access_key, keys.secret_key

    with ThreadPoolExecutor(1) as thread:  # Playwright's sync API keeps an event loop running in this thread
        return thread.submit(asyncio.run, create()).result()


def _account(server: Server, prefix: str) -> tuple[tuple[str, str], str]:
    keys = _keys(server)
    with server.client(keys) as client:
        found = client.get("/v2/numbers/available", params={"starts_with": prefix, "limit": 1}).json()["data"]
        number = str(found[0]["id"])
        assert client.post(f"/v2/numbers/{number}").status_code == 201
    return keys, number


@pytest.fixture(scope="module")
def owner(console_server: Server) -> tuple[tuple[str, str], str]:
    return _account(console_server, "1206")


def _send(server: Server, keys: tuple[str, str], sender: str, body: str, **extra: object) -> str:
    with server.client(keys) as client:
        answer = client.post("/v2.1/messages", json={"to": "12025550100", "from": sender, "body": body, **extra})
    assert answer.status_code == 202, answer.text
    return str(answer.json()["data"]["id"])


def _inbound(server: Server, number: str, bodies: list[str]) -> None:
    """Messages to `number` through the sandbox's inbound endpoint (sends are limited to 5 a second)."""
    token = (server.data_dir / "admin-token").read_text().strip()
    with loopback.client(base_url=server.url, headers={"Authorization": f"Bearer {token}"}) as admin:
        for body in bodies:
            answer = admin.post("/sandbox/inbound", json={"from": "12065550123", "to": number, "body": body})
            assert answer.status_code == 202, answer.text


@pytest.fixture
def watched(browser: Browser, console_server: Server) -> Iterator[WatchedPage]:
    page = WatchedPage(browser, console_server.url)
    yield page
    page.close()


def _sign_in(watched: WatchedPage, keys: tuple[str, str]) -> Page:
    page = watched.page
    page.goto("/console")
    page.get_by_label("Access key").fill(keys[0])
    page.get_by_label("Secret key").fill(keys[1])
    page.get_by_role("button", name="Sign in", exact=True).click()
    expect(page.get_by_text("Signed in as")).to_be_visible()
    return page


def test_a_wrong_key_shows_an_error_and_nothing_else(watched: WatchedPage, owner: tuple[tuple[str, str], str]) -> None:
    page = watched.page
    page.goto("/console")
    watched.screenshot("sign-in")
    page.get_by_label("Access key").fill(owner[0][0])
    page.get_by_label("Secret key").fill("not-the-secret")
    page.get_by_role("button", name="Sign in", exact=True).click()
    expect(page.get_by_role("alert")).to_have_text("Wrong access key or secret key.")
    expect(page.get_by_label("Messages")).to_have_count(0)


def test_a_message_appears_live_and_opens_in_full(
    watched: WatchedPage, console_server: Server, owner: tuple[tuple[str, str], str]
) -> None:
    keys, number = owner
    page = _sign_in(watched, keys)
    expect(page.get_by_role("status").first).to_be_visible()
    page.wait_for_timeout(300)  # the live stream is open
    _send(console_server, keys, number, "Grüße from the console ✓ " + "x" * 60)
    row = page.locator(".message-row", has_text="Grüße from the console")
    expect(row).to_be_visible(timeout=1500)  # within a second of the send, give or take the browser
    watched.screenshot("messages")
    row.click()
    detail = page.get_by_label("Message", exact=True)
    expect(detail.locator(".segments mark", has_text="✓")).to_be_visible()
    expect(detail.locator(".segment")).to_have_count(2)
    expect(detail.get_by_text("UCS-2")).to_be_visible()
    expect(detail.locator("table", has_text="Receipts").locator("tbody tr")).to_have_count(2, timeout=5000)
    expect(detail.locator(".message-status")).to_have_text("delivered")
    watched.screenshot("message")


def test_search_filters_by_words_and_fields(
    watched: WatchedPage, console_server: Server, owner: tuple[tuple[str, str], str]
) -> None:
    keys, number = owner
    _send(console_server, keys, number, "pineapple order 42")
    _send(console_server, keys, number, "banana order 7")
    page = _sign_in(watched, keys)
    search = page.get_by_label("Search")
    search.fill("pineapple direction:outbound from:" + number)
    search.press("Enter")
    expect(page.locator(".message-row")).to_have_count(1)
    expect(page.locator(".message-row")).to_contain_text("pineapple")
    search.fill("status:bogus")
    search.press("Enter")
    expect(page.get_by_text("status: must be one of")).to_be_visible()


def test_hostile_bodies_are_shown_as_text_and_never_run(
    watched: WatchedPage, console_server: Server, owner: tuple[tuple[str, str], str]
) -> None:
    keys, number = owner
    _send(console_server, keys, number, HOSTILE)
    page = _sign_in(watched, keys)
    row = page.locator(".message-row", has_text="<script>window.pwned=1</script>")
    expect(row).to_be_visible()
    row.click()
    expect(page.locator(".body-text")).to_have_text(HOSTILE)
    page.wait_for_timeout(200)
    assert page.evaluate("window.pwned") is None
    assert page.locator(".detail img, .detail script").count() == 0


def test_a_dead_letter_is_replayed_from_the_page(
    watched: WatchedPage, console_server: Server, owner: tuple[tuple[str, str], str]
) -> None:
    keys, number = owner
    nobody = f"http://127.0.0.1:{free_port()}/dlr"  # nothing listens: every try fails
    _send(console_server, keys, number, "callback goes nowhere", dlr_callback=nobody)
    page = _sign_in(watched, keys)
    page.locator(".message-row", has_text="callback goes nowhere").click()
    dead = page.locator("table", has_text="Dead letters")
    replay = dead.get_by_role("button", name="Replay").first
    expect(replay).to_be_visible(timeout=8000)
    watched.screenshot("dead-letter")
    replay.click()
    expect(dead.locator("tbody tr").first).to_contain_text("replayed")


def test_compose_a_message_simulate_the_reply_and_read_the_thread(
    watched: WatchedPage, owner: tuple[tuple[str, str], str]
) -> None:
    keys, number = owner
    page = _sign_in(watched, keys)
    page.get_by_role("button", name="Compose").click()
    page.get_by_label("From (one of your numbers)").fill(number)
    page.get_by_label("To").fill("12025550777")
    page.get_by_label("Text").fill("are we still on for lunch?")
    page.get_by_role("button", name="Send").click()
    expect(page.get_by_role("status").filter(has_text="Sent mdr2-")).to_be_visible()
    page.get_by_label("Text").fill("yes, at noon")
    page.get_by_role("button", name="Simulate a reply to the From number").click()
    expect(page.get_by_role("status").filter(has_text="Received mdr2-")).to_be_visible()
    page.get_by_role("button", name="Messages").click()
    page.locator(".message-row", has_text="yes, at noon").click()  # it arrived live
    page.get_by_role("button", name=f"Conversation 12025550777 ⇄ {number}").click()
    thread = page.locator(".thread li")
    expect(thread).to_have_count(2)
    expect(thread.first).to_contain_text("are we still on for lunch?")
    watched.screenshot("conversation")


def test_one_account_never_sees_another_s(
    watched: WatchedPage, console_server: Server, owner: tuple[tuple[str, str], str]
) -> None:
    keys, number = owner
    theirs = _send(console_server, keys, number, "private to the owner")
    stranger_keys, _ = _account(console_server, "1425")
    page = _sign_in(watched, stranger_keys)
    expect(page.get_by_text("No messages yet")).to_be_visible()
    answer = watched.context.request.get(f"/console/api/messages/{theirs}")
    assert answer.status == 404
    found = watched.context.request.get("/console/api/messages", params={"q": "private"})
    assert found.json()["messages"] == []
    page.get_by_role("button", name="Numbers").click()
    expect(page.locator("table", has_text="E911").locator("tbody tr")).to_have_count(1)
    expect(page.get_by_text(number, exact=True)).to_have_count(0)


def test_numbers_show_their_e911_address_and_caller_name_as_text(watched: WatchedPage, console_server: Server) -> None:
    keys, number = _account(console_server, "1206")
    with console_server.client(keys) as api:
        give_e911_and_cnam(console_server, api, number, "ACME PLUMBING")
        callback = {"callback_url": "http://127.0.0.1:9000/sms"}
        assert api.put(f"/v2/numbers/{number}/relationships/sms_callback", json=callback).status_code == 204
    page = _sign_in(watched, keys)
    page.get_by_role("button", name="Numbers").click()
    numbers = page.locator("table", has_text="E911").locator("tbody tr")
    expect(numbers).to_have_count(1)
    expect(numbers).to_contain_text(number)
    expect(numbers.locator(".e911 span")).to_have_text([HOSTILE_LABEL, "7742 20th Ave SW, Seattle, WA 98106"])
    expect(numbers).to_contain_text("ACME PLUMBING")
    expect(numbers.locator(".callbacks")).to_have_text("SMS: http://127.0.0.1:9000/sms")
    watched.screenshot("numbers")
    assert page.evaluate("window.pwned") is None
    assert page.locator("table img").count() == 0


def test_a_live_message_goes_on_top_and_the_older_pages_loaded_stay(
    watched: WatchedPage, console_server: Server
) -> None:
    keys, number = _account(console_server, "1206")
    _inbound(console_server, number, [f"backlog {n}" for n in range(51)])  # one more than a page
    page = _sign_in(watched, keys)
    rows = page.locator(".message-row")
    expect(rows).to_have_count(50)
    page.get_by_role("button", name="Older messages").click()
    expect(rows).to_have_count(51)
    _send(console_server, keys, number, "the newest one")
    expect(rows.first).to_contain_text("the newest one")
    page.wait_for_timeout(600)  # receipts of the backlog keep changing the list meanwhile
    expect(rows).to_have_count(52)
    expect(rows.last).to_contain_text("backlog 0")


def _png(width: int, height: int) -> bytes:
    """A real PNG image (red pixels), so that the browser decodes it."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    pixels = b"".join(b"\x00" + b"\xff\x00\x00" * width for _ in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(pixels)) + chunk(b"IEND", b"")


def test_an_mms_shows_its_image(
    watched: WatchedPage, console_server: Server, owner: tuple[tuple[str, str], str]
) -> None:
    keys, number = owner
    with Receiver() as media_host:
        url = media_host.serve("/console/red.png", _png(12, 8), content_type="image/png")
        _send(console_server, keys, number, "a red square", is_mms=True, media_urls=[url])
    page = _sign_in(watched, keys)
    page.locator(".message-row", has_text="a red square").click()
    image = page.locator(".detail .media img")
    expect(image).to_have_attribute("alt", "red.png")
    expect(image).to_be_visible()
    image.evaluate("(img) => img.decode()")  # rejects when the browser cannot load or decode it
    assert image.evaluate("(img) => [img.naturalWidth, img.naturalHeight]") == [12, 8]


def test_the_operator_sees_accounts_and_the_chart(watched: WatchedPage, console_server: Server) -> None:
    token = (console_server.data_dir / "admin-token").read_text().strip()
    page = watched.page
    page.goto("/console")
    page.get_by_label("Admin token").fill(token)
    page.get_by_role("button", name="Sign in as operator").click()
    expect(page.get_by_role("img", name="Messages per second")).to_be_visible()
    expect(page.locator("table", has_text="Accounts")).to_be_visible()
    watched.screenshot("operator")
    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_label("Admin token")).to_be_visible()


def test_serve_prints_the_console_url_and_the_demo_keys(console_server: Server) -> None:
    output = console_server.output()
    access_key, secret_key = console_server.demo_keys()
    assert f"console: {console_server.url}/console" in output
    assert f"access key {access_key}  secret key {secret_key}" in output


def test_the_console_sends_security_headers_and_refuses_without_a_session(console_server: Server) -> None:
    page = loopback.get(f"{console_server.url}/console")
    policy = page.headers["content-security-policy"]
    assert "frame-ancestors 'none'" in policy and "script-src 'self'" in policy and "unsafe-inline" not in policy
    assert "httponly" in page.headers["set-cookie"].lower() and "samesite=strict" in page.headers["set-cookie"].lower()
    assert loopback.get(f"{console_server.url}/console/api/messages").status_code == 401


def test_state_changes_need_the_csrf_token(watched: WatchedPage, owner: tuple[tuple[str, str], str]) -> None:
    _sign_in(watched, owner[0])
    request = watched.context.request
    assert request.post("/console/api/dead-letters/1/replay").status == 403
    assert request.post("/console/api/messages", data={"to": "1", "from": "2", "body": "x"}).status == 403


def test_failed_sign_ins_are_throttled_but_the_right_keys_still_get_in(
    console_server: Server, owner: tuple[tuple[str, str], str]
) -> None:
    """Last in the module: it spends this address's budget of failed logins."""
    keys = owner[0]
    with loopback.client(base_url=console_server.url) as client:
        token = re.search(r'name="csrf" value="([^"]+)"', client.get("/console").text)
        assert token is not None

        def sign_in(secret: str) -> int:
            form = {"csrf": token.group(1), "access_key": keys[0], "secret_key": secret}
            return client.post("/console/sign-in", data=form).status_code

        answers = [sign_in("wrong") for _ in range(14)]
        assert answers[0] == 401 and answers[-1] == 429, answers
        assert sign_in(keys[1]) == 303
