"""Retries, dead letters and replay, seen through `telroute webhooks attempts|dead-letters|replay`
run beside a live server on its data dir."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import pytest

from tests.support import loopback
from tests.support.isolated import Deployment, deployment, eventually
from tests.support.messaging import buy_number
from tests.support.receiver import Receiver
from tests.support.server import Server

FAST = {"TELROUTE_WEBHOOK_BACKOFF": "0.2,0.2,0.2,0.2,0.2", "TELROUTE_SIMULATOR_RECEIPT_DELAY": "0.2"}
TRIES = 6  # the first try and one per backoff step


@dataclass
class Site:
    deployment: Deployment
    server: Server
    receiver: Receiver
    owner: httpx.Client
    access_key: str

    def number_with_callback(self, path: str) -> str:
        number = buy_number(self.owner, starts_with="206")
        response = self.owner.post(
            f"/v2/numbers/{number}/relationships/sms_callback", json={"callback_url": self.receiver.url(path)}
        )
        assert response.status_code == 204, response.text
        return number

    def inbound(self, to_number: str, body: str) -> str:
        token = self.deployment.admin_token()
        response = loopback.post(
            f"{self.server.url}/sandbox/inbound",
            json={"from": "12065550123", "to": to_number, "body": body},
            headers={"Authorization": f"Bearer {token}"},
        )
        assert response.status_code == 202, response.text
        return str(response.json()["data"]["id"])

    def cli_json(self, *args: str) -> Any:
        return self.deployment.cli_json("webhooks", *args)

    def attempts_in_db(self, message_id: str) -> int:
        rows = self.deployment.query(
            "SELECT COUNT(*) AS n FROM webhook_attempts WHERE message_public_id = :id", {"id": message_id}
        )
        return int(rows[0]["n"])

    def dead_letters_in_db(self, message_id: str) -> list[dict[str, Any]]:
        return self.deployment.query(
            "SELECT id, replayed_at_us FROM webhook_dead_letters WHERE message_public_id = :id ORDER BY id",
            {"id": message_id},
        )

    def pending_jobs_for(self, message_id: str) -> int:
        rows = self.deployment.query(
            "SELECT COUNT(*) AS n FROM jobs WHERE kind = 'deliver_webhook' AND payload LIKE :pattern",
            {"pattern": f'%"message_public_id": "{message_id}"%'},
        )
        return int(rows[0]["n"])


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    data_dir = tmp_path_factory.mktemp("webhooks-cli")
    with deployment(data_dir) as deployed, Receiver() as receiver:
        server = deployed.server(**FAST).start()
        keys = deployed.new_account("webhooks-cli")
        try:
            with server.client(keys) as owner:
                yield Site(deployed, server, receiver, owner, keys[0])
        finally:
            server.terminate()


@pytest.fixture
def path(request: pytest.FixtureRequest) -> str:
    return "/" + str(request.node.name)


def test_a_callback_is_retried_until_it_succeeds_and_every_attempt_is_listed(site: Site, path: str) -> None:
    site.receiver.respond(path, 500, 500, 200)
    message_id = site.inbound(site.number_with_callback(path), "third time lucky")
    first, second, third = site.receiver.wait_for(3, path=path)
    eventually(lambda: site.attempts_in_db(message_id) == 3, what="three recorded attempts")
    eventually(lambda: site.pending_jobs_for(message_id) == 0, what="the callback job finished")

    attempts = site.cli_json("attempts", "--message", message_id)
    assert [(item["attempt"], item["status_code"], item["error"]) for item in attempts] == [
        (3, 200, None),
        (2, 500, "HTTP 500"),
        (1, 500, "HTTP 500"),
    ]
    for item in attempts:
        assert set(item) == {
            "id",
            "when",
            "access_key",
            "event",
            "message_id",
            "url",
            "attempt",
            "status_code",
            "latency_ms",
            "error",
        }
        assert item["access_key"] == site.access_key
        assert item["event"] == "inbound_sms"
        assert item["message_id"] == message_id
        assert item["url"] == site.receiver.url(path)
        assert isinstance(item["latency_ms"], float) and 0 < item["latency_ms"] < 5000
    assert first.body == second.body == third.body
    assert len(site.receiver.requests(path)) == 3  # one success, no further tries
    assert site.dead_letters_in_db(message_id) == []


def test_a_callback_that_always_fails_is_dead_lettered_then_replayed(site: Site, path: str) -> None:
    site.receiver.respond(path, 500)
    message_id = site.inbound(site.number_with_callback(path), "never answered")
    site.receiver.wait_for(TRIES, path=path)
    eventually(lambda: site.dead_letters_in_db(message_id), what="a dead letter")
    assert site.attempts_in_db(message_id) == TRIES
    assert len(site.receiver.requests(path)) == TRIES

    [letter] = [item for item in site.cli_json("dead-letters") if item["message_id"] == message_id]
    assert letter["attempts"] == TRIES
    assert letter["last_error"] == "HTTP 500"
    assert letter["event"] == "inbound_sms"
    assert letter["access_key"] == site.access_key
    assert letter["url"] == site.receiver.url(path)
    assert letter["replayed_at"] is None
    assert letter["payload"] == site.receiver.requests(path)[0].json()

    site.receiver.respond(path, 200)
    replayed = site.deployment.cli("webhooks", "replay", str(letter["id"]))
    assert replayed.stdout.strip() == "replayed 1 dead letter"
    [*_, delivered] = site.receiver.wait_for(TRIES + 1, path=path)
    assert delivered.json() == letter["payload"]
    eventually(lambda: site.attempts_in_db(message_id) == TRIES + 1, what="the replay's attempt")

    [latest, *_] = site.cli_json("attempts", "--message", message_id, "--limit", "1")
    assert (latest["attempt"], latest["status_code"], latest["error"]) == (1, 200, None)
    assert [item["id"] for item in site.cli_json("dead-letters") if item["message_id"] == message_id] == []
    [done] = [item for item in site.cli_json("dead-letters", "--all") if item["message_id"] == message_id]
    assert done["replayed_at"] is not None

    again = site.deployment.cli("webhooks", "replay", str(letter["id"]), check=False)
    assert again.returncode == 1
    assert f"no pending dead letter with id {letter['id']}" in again.stderr
    assert len(site.receiver.requests(path)) == TRIES + 1


def test_replay_all_sends_every_pending_dead_letter(site: Site, path: str) -> None:
    site.receiver.respond(path, 404)
    number = site.number_with_callback(path)
    ids = [site.inbound(number, f"lost {index}") for index in range(2)]
    eventually(lambda: all(site.dead_letters_in_db(message_id) for message_id in ids), what="two dead letters")
    site.receiver.respond(path, 204)

    replayed = site.cli_json("replay", "--all")
    assert replayed["not_pending"] == []
    assert len(replayed["replayed"]) >= 2  # and any other test's pending ones

    def delivered_again() -> bool:
        bodies = [item.json()["data"]["id"] for item in site.receiver.requests(path)]
        return all(bodies.count(message_id) == TRIES + 1 for message_id in ids)

    eventually(delivered_again, what="each dead letter POSTed once more")
    eventually(lambda: all(site.attempts_in_db(message_id) == TRIES + 1 for message_id in ids), what="replays")
    for message_id in ids:
        [letter] = site.dead_letters_in_db(message_id)
        assert letter["replayed_at_us"] is not None


def test_replay_needs_ids_or_all(site: Site) -> None:
    neither = site.deployment.cli("webhooks", "replay", check=False)
    both = site.deployment.cli("webhooks", "replay", "1", "--all", check=False)
    for result in (neither, both):
        assert result.returncode == 1
        assert "give dead letter ids or --all" in result.stderr


class _Redirector:
    """Answers every POST with a 307 to `target` (a client that followed it would POST there)."""

    def __init__(self, target: str) -> None:
        location = target

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                self.rfile.read(int(self.headers.get("Content-Length") or 0))
                self.send_response(307)
                self.send_header("Location", location)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                return None

        self.hits = 0
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05})

    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}/hook"

    def __enter__(self) -> _Redirector:
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=10)


def test_redirects_are_not_followed_and_count_as_failures(site: Site, path: str) -> None:
    target = path + "/target"
    with _Redirector(site.receiver.url(target)) as redirector:
        number = buy_number(site.owner, starts_with="206")
        response = site.owner.post(
            f"/v2/numbers/{number}/relationships/sms_callback", json={"callback_url": redirector.url()}
        )
        assert response.status_code == 204
        message_id = site.inbound(number, "follow me")
        eventually(lambda: site.dead_letters_in_db(message_id), what="a dead letter", timeout=20)
    attempts = site.cli_json("attempts", "--message", message_id)
    refused = f"HTTP 307 (redirects are not followed; Location: {site.receiver.url(target)})"
    assert [(item["status_code"], item["error"]) for item in attempts] == [(307, refused)] * TRIES
    [letter] = [item for item in site.cli_json("dead-letters") if item["message_id"] == message_id]
    assert letter["last_error"] == refused
    assert site.receiver.requests(target, method=None) == []


def test_the_tables_show_what_json_shows(site: Site, path: str) -> None:
    site.receiver.respond(path, 418)
    message_id = site.inbound(site.number_with_callback(path), "teapot")
    eventually(lambda: site.dead_letters_in_db(message_id), what="a dead letter")
    wide = {"COLUMNS": "400"}
    attempts = site.deployment.cli("webhooks", "attempts", "--message", message_id, env_extra=wide).stdout
    header = attempts.splitlines()[1]
    for column in ("when", "account", "event", "message", "url", "attempt", "status", "latency ms", "error"):
        assert column in header
    assert attempts.count(message_id) == TRIES
    assert attempts.count("HTTP 418") == TRIES
    letters = site.deployment.cli("webhooks", "dead-letters", env_extra=wide).stdout
    [row] = [line for line in letters.splitlines() if message_id in line]
    assert site.receiver.url(path) in row and "HTTP 418" in row and "inbound_sms" in row
