"""Helpers of the messaging end-to-end tests: accounts, numbers, sends, and polling with a deadline."""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import Callable
from typing import Any, TypeVar

import httpx

from telroute.accounts import service as accounts_service
from telroute.kit import db as dbkit
from telroute.kit.clock import system_clock
from tests.support.databases import database_url_for
from tests.support.server import Server

T = TypeVar("T")
Keys = tuple[str, str]
TIMESTAMP = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d\dZ$")
MESSAGE_ID = re.compile(r"^mdr2-[0-9a-f]{32}$")
MDR_KEYS = {
    "body",
    "status",
    "direction",
    "amount_nanodollars",
    "amount_display",
    "to",
    "from",
    "message_encoding",
    "timestamp",
    "is_mms",
    "message_type",
    "delivery_receipts",
}
RECEIPT_KEYS = {"status", "status_code", "status_code_description", "timestamp", "level"}
JSONAPI = "application/vnd.api+json"


def new_account(server: Server, name: str = "messaging", *, per_second: int | None = None) -> Keys:
    """A fresh account in the server's database (also an isolated deployment's), made through the
    accounts service in this process: `accounts create` costs a second of CLI start-up per account.
    `per_second`: its SMS and MMS limits instead of the defaults."""

    async def create() -> Keys:
        url = server.env_extra.get("TELROUTE_DATABASE_URL") or database_url_for(server.data_dir)
        database = await dbkit.connect(url, pool_size=1)
        try:
            async with database.transaction() as connection:
                keys = await accounts_service.create(connection, name, now=system_clock())
                if per_second is not None:
                    await accounts_service.set_limits(connection, keys.access_key, per_second, per_second)
        finally:
            await database.close()
        return keys.access_key, keys.secret_key

    return asyncio.run(create())


def buy_number(client: httpx.Client, **filters: str) -> str:
    """Purchase the first available number matching the filters; return it. Local numbers come from
    201 and toll-free ones from 877, prefixes the numbers tests leave to other modules."""
    if "starts_with" not in filters:
        filters["starts_with"] = "1877" if filters.get("number_type") == "tollfree" else "1201"
    found = client.get("/v2/numbers/available", params={**filters, "limit": "1"})
    assert found.status_code == 200, found.text
    number = str(found.json()["data"][0]["id"])
    bought = client.post(f"/v2/numbers/{number}")
    assert bought.status_code == 201, bought.text
    return number


def send(client: httpx.Client, headers: dict[str, str] | None = None, **attributes: Any) -> httpx.Response:
    """POST /v2.1/messages with a flat body (`from_` for `from`)."""
    body = {("from" if key == "from_" else key): value for key, value in attributes.items()}
    return client.post("/v2.1/messages", json=body, headers=headers)


def sent_id(response: httpx.Response) -> str:
    assert response.status_code == 202, response.text
    return str(response.json()["data"]["id"])


def message(client: httpx.Client, message_id: str) -> dict[str, Any]:
    response = client.get(f"/v2.1/messages/{message_id}")
    assert response.status_code == 200, response.text
    document: dict[str, Any] = response.json()
    return document


def messages(client: httpx.Client, **params: Any) -> dict[str, Any]:
    params.setdefault("start_date", "2000-01-01")
    response = client.get("/v2.1/messages", params=params)
    assert response.status_code == 200, response.text
    document: dict[str, Any] = response.json()
    return document


def wait_until(probe: Callable[[], T | None], *, timeout: float = 15.0, interval: float = 0.05, what: str = "") -> T:
    """Call `probe` until it returns something truthy; AssertionError with the last value at the deadline."""
    deadline = time.monotonic() + timeout
    while True:
        value = probe()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"not within {timeout} s: {what or probe!r}; last value {value!r}")
        time.sleep(interval)


def wait_for_status(
    client: httpx.Client, message_id: str, status: str, *, receipts: int | None = None, timeout: float = 15.0
) -> dict[str, Any]:
    """The message's attributes once it has `status` (and, if given, that many receipts)."""

    def probe() -> dict[str, Any] | None:
        attributes: dict[str, Any] = message(client, message_id)["data"]["attributes"]
        if attributes["status"] != status:
            return None
        if receipts is not None and len(attributes["delivery_receipts"]) != receipts:
            return None
        return attributes

    return wait_until(probe, timeout=timeout, what=f"{message_id} reaching {status!r}")


def admin_token(server: Server) -> str:
    return (server.data_dir / "admin-token").read_text().strip()


def error_of(response: httpx.Response, status: int) -> dict[str, Any]:
    """The one JSON:API error of a response, after checking the common rules of §1."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == JSONAPI
    document = response.json()
    assert set(document) == {"errors"}
    [error] = document["errors"]
    assert error["status"] == status
    assert error["title"] == ("Client Error" if status < 500 else "Server Error")
    assert re.fullmatch(r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}", error["id"])
    result: dict[str, Any] = error
    return result
