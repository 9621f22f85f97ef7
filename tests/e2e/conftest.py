"""Fixtures of the end-to-end tests: fresh accounts on the shared server, the seeded inventory it
holds, the exact JSON:API shapes of the wire contract (documents, errors and links), the OpenAPI document and a
media host.

Prefixes these tests buy from are their own (other modules buy from 201, 206, 425, 503): each test that
buys picks a prefix no other test reads exactly.
"""

from __future__ import annotations

import asyncio
import re
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest

from telroute import openapi
from telroute.accounts import service as accounts_service
from telroute.kit import db as dbkit
from telroute.kit.clock import system_clock
from telroute.numbers.inventory import InventoryRow, generate_inventory
from tests.e2e.test_openapi_contract import Contract
from tests.support.databases import database_url_for
from tests.support.receiver import Receiver
from tests.support.server import Server, base_env

Keys = tuple[str, str]
JSONAPI = "application/vnd.api+json"
ERROR_KEYS = {"id", "status", "title", "detail", "code"}
# Tier prices as the contract renders them: JSON numbers, whole dollars as integers.
PRICES: dict[int, float] = {
    1_000_000_000: 1,
    1_250_000_000: 1.25,
    1_750_000_000: 1.75,
    2_500_000_000: 2.5,
    3_990_000_000: 3.99,
    5_000_000_000: 5,
    9_990_000_000: 9.99,
}


def make_account(server: Server, name: str = "numbers") -> Keys:
    """A fresh account in the server's database, made through the accounts service in this process
    (`accounts create` costs a second of CLI start-up; test_accounts_cli.py covers the CLI)."""

    async def create() -> Keys:
        database = await dbkit.connect(database_url_for(server.data_dir), pool_size=1)
        try:
            async with database.transaction() as connection:
                keys = await accounts_service.create(connection, name, now=system_clock())
        finally:
            await database.close()
        return keys.access_key, keys.secret_key

    return asyncio.run(create())


@pytest.fixture(scope="session")
def seeded(server: Server) -> dict[str, InventoryRow]:
    """The inventory the shared server seeded (seed 0, TELROUTE_INVENTORY_PER_BLOCK per block)."""
    per_block = int(base_env(server.data_dir)["TELROUTE_INVENTORY_PER_BLOCK"])
    return {row.value: row for row in generate_inventory(seed=0, per_block=per_block)}


@pytest.fixture
def keys(server: Server) -> Keys:
    """The access key and secret key of a fresh account."""
    return make_account(server)


@pytest.fixture
def api(server: Server, keys: Keys) -> Iterator[httpx.Client]:
    """A client of a fresh account (the one of `keys`)."""
    with server.client(keys) as client:
        yield client


@pytest.fixture
def stranger(server: Server) -> Iterator[httpx.Client]:
    """A client of another fresh account."""
    with server.client(make_account(server, "stranger")) as client:
        yield client


@pytest.fixture
def base(server: Server) -> str:
    return server.url


@pytest.fixture
def buy(seeded: dict[str, InventoryRow]) -> Callable[[httpx.Client, str], str]:
    """Buy the first available number starting with `prefix`; return it."""

    def purchase(client: httpx.Client, prefix: str) -> str:
        found = client.get("/v2/numbers/available", params={"starts_with": prefix, "limit": 1})
        assert found.status_code == 200, found.text
        assert found.json()["data"], f"no number left under {prefix}"
        number: str = found.json()["data"][0]["id"]
        bought = client.post(f"/v2/numbers/{number}")
        assert bought.status_code == 201, bought.text
        return number

    return purchase


def available_item(row: InventoryRow, base: str) -> dict[str, Any]:
    return {
        "type": "number",
        "id": row.value,
        "attributes": {
            "rate_center": row.rate_center,
            "value": row.value,
            "monthly_cost": PRICES[row.monthly_cost_nd],
            "state": row.state,
            "number_type": row.number_type,
            "setup_cost": PRICES[row.setup_cost_nd],
        },
        "links": {"related": f"{base}/v2/numbers/{row.value}"},
    }


def owned_item(row: InventoryRow, base: str, *, alias: str | None = None, cnam: bool = True) -> dict[str, Any]:
    return {
        "type": "number",
        "id": row.value,
        "attributes": {
            "rate_center": row.rate_center,
            "value": row.value,
            "alias": alias,
            "state": row.state,
            "number_type": row.number_type,
            "cnam_lookups_enabled": cnam,
        },
        "links": {"self": f"{base}/v2/numbers/{row.value}"},
    }


def route_zero(base: str) -> dict[str, Any]:
    return {
        "type": "route",
        "id": "0",
        "attributes": {"route_type": "sip-reg", "alias": "sip-reg", "value": None},
        "links": {"self": f"{base}/v2/routes/0"},
    }


def detail_document(
    row: InventoryRow,
    base: str,
    *,
    alias: str | None = None,
    cnam: bool = True,
    primary: dict[str, Any] | None = None,
    failover: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """GET /v2/numbers/{id}: by default pointing at the built-in route 0, with it included."""
    primary = primary or route_zero(base)
    resource = owned_item(row, base, alias=alias, cnam=cnam)
    resource["relationships"] = {
        "cnam_preset": {"data": None},
        "e911_address": {"data": None},
        "failover_route": {"data": None if failover is None else {"type": "route", "id": failover["id"]}},
        "primary_route": {"data": {"type": "route", "id": primary["id"]}},
    }
    included = [primary] if failover is None or failover == primary else [primary, failover]
    return {"data": resource, "included": included, "links": {"self": f"{base}/v2/numbers/{row.value}"}}


def assert_error(
    response: httpx.Response, status: int, *, parameter: str | None = None, pointer: str | None = None
) -> dict[str, Any]:
    """A JSON:API error document: integer status, title by class, a detail, a fresh UUID id."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == JSONAPI
    document = response.json()
    assert list(document) == ["errors"] and len(document["errors"]) == 1
    error: dict[str, Any] = document["errors"][0]
    assert ERROR_KEYS <= set(error) <= ERROR_KEYS | {"source"}, error
    if "source" in error:
        assert list(error["source"]) in (["parameter"], ["pointer"]), error
    assert error["status"] == status and isinstance(error["status"], int)
    assert error["title"] == ("Client Error" if status < 500 else "Server Error")
    assert isinstance(error["detail"], str) and error["detail"]
    assert uuid.UUID(error["id"]).version == 4
    if parameter is not None:
        assert error.get("source") == {"parameter": parameter}, error
    if pointer is not None:
        assert error.get("source") == {"pointer": pointer}, error
    return error


def query_of(link: str) -> str:
    """The query string of a link, asserting it is an absolute URL on the server."""
    match = re.fullmatch(r"http://127\.0\.0\.1:\d+/[^?]*\?(.*)", link)
    assert match is not None, link
    return match.group(1)


@pytest.fixture(scope="session")
def contract() -> Contract:
    """The OpenAPI document served at /openapi.json, to validate real responses against."""
    return Contract(openapi.document())


@pytest.fixture(scope="module")
def media_host() -> Iterator[Receiver]:
    """A local HTTP server for media URLs (the sandbox may fetch from 127.0.0.1)."""
    with Receiver() as receiver:
        yield receiver
