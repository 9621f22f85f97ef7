"""`--deny-private-targets`: callbacks to loopback are refused and dead-lettered at once with a
clear error, and MMS media on loopback is refused with a 422."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.support import loopback
from tests.support.isolated import Deployment, deployment, eventually
from tests.support.messaging import buy_number, error_of, send, sent_id, wait_for_status
from tests.support.receiver import Receiver
from tests.support.server import Server

REFUSED = "private, loopback or link-local address"


@dataclass
class Site:
    deployment: Deployment
    server: Server
    receiver: Receiver
    client: httpx.Client
    number: str
    access_key: str

    def dead_letters(self, message_id: str) -> list[dict[str, Any]]:
        return site_dead_letters(self.deployment, message_id)

    def attempts(self, message_id: str) -> list[dict[str, Any]]:
        return self.deployment.query(
            "SELECT attempt, status_code, error, url FROM webhook_attempts WHERE message_public_id = :id ORDER BY id",
            {"id": message_id},
        )


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    data_dir = tmp_path_factory.mktemp("deny-private")
    with deployment(data_dir) as deployed, Receiver() as receiver:
        server = deployed.server("--deny-private-targets", TELROUTE_SIMULATOR_RECEIPT_DELAY="0.1").start()
        keys = deployed.new_account("private", sms_per_second=100, mms_per_second=100)
        try:
            with server.client(keys) as client:
                yield Site(deployed, server, receiver, client, buy_number(client, starts_with="206"), keys[0])
        finally:
            server.terminate()


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost"])
def test_a_private_callback_is_refused_with_422_when_set(site: Site, host: str) -> None:
    url = f"http://{host}:{site.receiver.port}/dlr-{host}"
    response = send(site.client, from_=site.number, to="12065550160", body="hush", dlr_callback=url)
    error = error_of(response, 422)
    assert error["source"] == {"pointer": "/dlr_callback"}
    assert REFUSED in error["detail"]
    response = site.client.put("/v2.1/messages/sms_dlr_callback", json={"callback_url": url})
    assert REFUSED in error_of(response, 422)["detail"]


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost"])
def test_a_private_callback_stored_earlier_is_dead_lettered_without_a_request(site: Site, host: str) -> None:
    """A URL set while private targets were allowed: each delivery judges the address it would connect
    to (`localhost` goes through the resolver's check, `127.0.0.1` through the literal one)."""
    url = f"http://{host}:{site.receiver.port}/dlr-{host}"
    store_account_callback(site.deployment, site.access_key, url)
    message_id = sent_id(send(site.client, from_=site.number, to="12065550161", body="hush"))
    wait_for_status(site.client, message_id, "delivered", receipts=2)  # the message itself is unaffected
    letters = eventually(lambda: found if len(found := site.dead_letters(message_id)) == 2 else None)
    for letter in letters:
        assert letter["attempts"] == 1  # refused targets are not retried
        assert letter["url"] == url
        assert letter["last_error"].startswith("refused: ")
        assert REFUSED in letter["last_error"]
    assert [(row["attempt"], row["status_code"]) for row in site.attempts(message_id)] == [(1, None), (1, None)]
    assert site.receiver.requests(method=None) == []


def test_mms_media_on_a_private_address_is_refused_with_422(site: Site) -> None:
    media_url = site.receiver.serve("/cat.gif", b"GIF89a", content_type="image/gif")
    response = send(site.client, from_=site.number, to="12065550162", body="pic", media_urls=[media_url])
    error = error_of(response, 422)
    assert error["detail"].startswith(f'Error fetching media: File at "{media_url}" could not be fetched: ')
    assert REFUSED in error["detail"]
    assert site.receiver.requests(method=None) == []


def test_sandbox_inbound_media_on_a_private_address_is_refused_with_422(site: Site) -> None:
    media_url = site.receiver.serve("/inbound.gif", b"GIF89a", content_type="image/gif")
    response = loopback.post(
        f"{site.server.url}/sandbox/inbound",
        json={"from": "12065550123", "to": site.number, "body": "pic", "media_urls": [media_url]},
        headers={"Authorization": f"Bearer {site.deployment.admin_token()}"},
    )
    error = error_of(response, 422)
    assert REFUSED in error["detail"]
    assert site.receiver.requests(method=None) == []


def test_the_environment_variable_denies_private_targets_too(tmp_path: Path) -> None:
    with deployment(tmp_path) as deployed, Receiver() as receiver:
        server = deployed.server(TELROUTE_ALLOW_PRIVATE_TARGETS="0", TELROUTE_SIMULATOR_RECEIPT_DELAY="0.1").start()
        try:
            keys = deployed.new_account("env")
            with server.client(keys) as client:
                number = buy_number(client, starts_with="206")
                url = receiver.url("/env")
                error_of(send(client, from_=number, to="12065550163", body="env", dlr_callback=url), 422)
                store_account_callback(deployed, keys[0], url)
                message_id = sent_id(send(client, from_=number, to="12065550163", body="env"))
                letters = eventually(
                    lambda: found if len(found := site_dead_letters(deployed, message_id)) == 2 else None,
                    what="both DLRs dead-lettered",
                )
            assert all(letter["last_error"].startswith("refused: ") for letter in letters)
            assert receiver.requests(method=None) == []
        finally:
            server.terminate()


def store_account_callback(deployed: Deployment, access_key: str, url: str) -> None:
    """Set an account's sms_dlr_callback behind the API's back, as if set while private targets were allowed."""
    deployed.query(
        "UPDATE accounts SET sms_dlr_callback = :url WHERE access_key = :key", {"url": url, "key": access_key}
    )


def site_dead_letters(deployed: Deployment, message_id: str) -> list[dict[str, Any]]:
    return deployed.query(
        "SELECT attempts, last_error, url FROM webhook_dead_letters WHERE message_public_id = :id ORDER BY id",
        {"id": message_id},
    )
