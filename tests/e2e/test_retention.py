"""Retention, over real sockets against a `telroute serve` of its own (it moves its virtual clock): once a
message is older than TELROUTE_RETENTION_DAYS on the deployment's clock the worker deletes it with its
receipts, reply links and callback tries; younger ones stay, and MDR pages stay exact."""

from __future__ import annotations

from pathlib import Path

import httpx

from telroute.config import Settings
from telroute.kit.clock import parse_date
from telroute.sandbox_client import SandboxAccount, SandboxAdmin
from tests.support import loopback
from tests.support.isolated import Deployment, deployment, eventually
from tests.support.messaging import wait_for_status

AREA = "270"  # its own deployment
CUSTOMER = "13125550192"
DAY = 86_400.0


def _send(client: httpx.Client, account: SandboxAccount, body: str) -> str:
    response = client.post("/v2.1/messages", json={"to": CUSTOMER, "from": account.number, "body": body})
    assert response.status_code == 202, response.text
    return str(response.json()["data"]["id"])


def _count(deployed: Deployment, table: str) -> int:
    return int(deployed.query(f"SELECT COUNT(*) AS n FROM {table}")[0]["n"])


def test_messages_older_than_the_retention_are_pruned_on_the_virtual_clock(tmp_path: Path) -> None:
    with deployment(tmp_path) as deployed:
        server = deployed.server(TELROUTE_RETENTION_DAYS="1", TELROUTE_RETENTION_INTERVAL="0.2").start()
        try:
            _run(deployed, SandboxAdmin(server.url, deployed.admin_token()))
        finally:
            server.terminate()


def _run(deployed: Deployment, admin: SandboxAdmin) -> None:
    account = admin.create_account(numbers=1, area_code=AREA, callbacks={"sms_dlr_callback": "http://127.0.0.1:9/x"})
    with loopback.client(
        base_url=account.base_url, auth=(account.access_key, account.secret_key), timeout=30
    ) as client:
        old = _send(client, account, "old")
        wait_for_status(client, old, "delivered")
        account.inject_inbound(reply_to=old, body="old reply")
        account.wait_for_callback(message_id=old, timeout=15)
        admin.advance_clock(DAY / 2)
        younger = _send(client, account, "younger")
        wait_for_status(client, younger, "delivered")
        assert _count(deployed, "messages") == 3  # nothing is a day old yet
        admin.advance_clock(DAY / 2 + 1)
        eventually(lambda: _count(deployed, "messages") == 1, what="the day-old messages pruned")
        assert [item["id"] for item in account.messages()] == [younger]
        listed = client.get("/v2.1/messages", params={"start_date": "2000-01-01", "limit": 10}).json()["data"]
        assert [item["id"] for item in listed] == [younger]
        assert client.get(f"/v2.1/messages/{old}").status_code == 404
    # Tries made before the cutoff are gone; the failing callback's retries, due at once when the clock jumped,
    # are younger.
    cutoff = parse_date(admin.clock()["now"]) - int(DAY * 1_000_000)
    assert all(parse_date(item["attributes"]["created_at"]) >= cutoff for item in account.callbacks())
    assert _count(deployed, "webhook_attempts") == len(account.callbacks())
    assert (_count(deployed, "message_replies"), _count(deployed, "receipts")) == (0, 2)  # the younger's two


def test_the_default_is_seven_days_in_the_sandbox_and_off_in_production() -> None:
    assert Settings(profile="sandbox").retention_us == 7 * 86_400_000_000
    assert Settings(profile="production").retention_us is None
    assert Settings(profile="sandbox", retention_days=0).retention_us is None
    assert Settings(profile="production", retention_days=0.5).retention_us == 43_200_000_000
