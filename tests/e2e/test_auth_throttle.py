"""Secrets are stored hashed; repeated failed logins from one client address are slowed (429 with
Retry-After) without ever refusing the owner's valid credentials from that address.

Each test uses client addresses of its own through X-Forwarded-For: the server trusts the header from
127.0.0.1, as uvicorn does by default for a proxy on the same host. (`telroute accounts rotate-secret`
cutting off the old secret at once is tested in test_accounts_cli.py.)
"""

from __future__ import annotations

import hashlib
import itertools
import json
import sqlite3
import subprocess
import time
import uuid
from pathlib import Path

import httpx
import pytest

from telroute import openapi
from telroute.kit.failed_logins import FAILURE_BURST, FailedLogins
from tests.e2e.test_openapi_contract import Contract
from tests.support.databases import database_url_for, on_postgres
from tests.support.isolated import Deployment
from tests.support.messaging import new_account
from tests.support.server import Server, run_cli

_hosts = itertools.count(1)
CONTRACT = Contract(openapi.document())


def address() -> str:
    return f"192.0.2.{next(_hosts)}"


def client(server: Server, keys: tuple[str, str] | None, source: str) -> httpx.Client:
    return CONTRACT.client(server, keys, headers={"X-Forwarded-For": source})


# --- secrets at rest -----------------------------------------------------------------------------


def test_the_accounts_table_holds_only_a_hash_of_the_secret(server: Server) -> None:
    name = f"hashed-{uuid.uuid4().hex[:8]}"
    created = json.loads(run_cli(server.data_dir, "accounts", "create", "--name", name, "--json").stdout)
    key, secret = created["access_key"], created["secret_key"]
    deployed = Deployment(server.data_dir, database_url_for(server.data_dir))
    [row] = deployed.query("SELECT * FROM accounts WHERE access_key = :key", {"key": key})
    assert row["secret_hash"] == hashlib.sha256(secret.encode()).hexdigest()
    assert all(secret not in str(value) for value in row.values()), row
    if on_postgres():
        found = deployed.query(
            "SELECT COUNT(*) AS n FROM accounts WHERE position(:secret in CAST(accounts AS text)) > 0",
            {"secret": secret},
        )
        assert found[0]["n"] == 0
        return
    path = Path(database_url_for(server.data_dir).removeprefix("sqlite:///"))
    with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as reader:  # read the file itself, WAL included
        dump = "\n".join(reader.iterdump())
    assert secret not in dump and key in dump
    for file in (path, path.with_name(path.name + "-wal")):
        if file.exists():
            # Read by another process: closing a descriptor of the file here would drop the POSIX locks the
            # shared server's SQLite connections hold on it in this process.
            content = subprocess.run(["cat", str(file)], capture_output=True, check=True, timeout=60).stdout
            assert secret.encode() not in content, file


def test_a_wrong_secret_never_reveals_the_right_one(server: Server) -> None:
    keys = new_account(server, "reveal")
    with client(server, (keys[0], "x"), address()) as wrong:
        response = wrong.get("/v2/numbers")
    assert response.status_code == 401
    assert keys[1] not in response.text and hashlib.sha256(keys[1].encode()).hexdigest() not in response.text


# --- the failed-login throttle -------------------------------------------------------------------


def _status(api: httpx.Client) -> int:
    return api.get("/v2/numbers").status_code


def test_failures_beyond_the_burst_are_429_and_the_owner_still_gets_in(server: Server) -> None:
    keys = new_account(server, "throttled")
    source = address()
    with client(server, (keys[0], keys[1] + "x"), source) as wrong, client(server, keys, source) as owner:
        assert [_status(wrong) for _ in range(FAILURE_BURST)] == [401] * FAILURE_BURST
        refused = wrong.get("/v2/numbers")
        assert refused.status_code == 429
        [error] = refused.json()["errors"]
        assert error["code"] == "login_throttled" and "failed logins" in error["detail"]
        assert 1 <= int(refused.headers["retry-after"]) <= 2
        assert "www-authenticate" not in refused.headers
        for _ in range(5):  # the owner, from the same address, in the middle of it
            assert _status(owner) == 200
            assert _status(wrong) == 429
        with client(server, ("99999999", "guess"), source) as unknown_key:
            assert _status(unknown_key) == 429  # the budget is the address's, whatever key it tries
        with client(server, (keys[0], keys[1] + "x"), address()) as elsewhere:
            assert _status(elsewhere) == 401  # another address has its own budget
        time.sleep(int(refused.headers["retry-after"]) + 0.1)
        assert _status(wrong) == 401  # one failure per second again
        assert _status(wrong) == 429
        assert _status(owner) == 200


def test_requests_without_or_with_malformed_credentials_are_not_throttled(server: Server) -> None:
    """They are not login attempts (and cost no lookup): always 401."""
    source = address()
    malformed = ["Basic", "Basic !!!", "Bearer x", "Basic bm8tY29sb24=", "Digest a=b"]
    with client(server, None, source) as anonymous:
        for index in range(3 * FAILURE_BURST):
            headers = {"Authorization": malformed[index % len(malformed)]} if index % 2 else {}
            response = anonymous.get("/v2/numbers", headers=headers)
            assert response.status_code == 401, response.text


def test_ipv6_clients_share_the_budget_of_their_64(server: Server) -> None:
    keys = new_account(server, "ipv6")
    block = f"2001:db8:{next(_hosts):x}"
    with (
        client(server, (keys[0], "x"), f"{block}::1") as first,
        client(server, (keys[0], "x"), f"{block}::2") as second,
    ):
        statuses = [_status(first if index % 2 else second) for index in range(FAILURE_BURST + 1)]
    assert statuses == [401] * FAILURE_BURST + [429]
    with client(server, (keys[0], "x"), f"{block}:1::1") as other_block:
        assert _status(other_block) == 401


# --- the GCRA itself, on a fake clock ------------------------------------------------------------


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.mark.no_database
def test_gcra_allows_the_burst_then_one_failure_per_interval() -> None:
    clock = FakeClock()
    throttle = FailedLogins(burst=10, per_second=1.0, clock=clock)
    assert [throttle.failed("a") for _ in range(10)] == [None] * 10
    wait = throttle.failed("a")
    assert wait == pytest.approx(1.0)
    assert throttle.failed("a") == pytest.approx(1.0)  # refused failures do not push the wait further
    clock.now += 0.5
    assert throttle.failed("a") == pytest.approx(0.5)
    clock.now += 0.5
    assert throttle.failed("a") is None
    assert throttle.failed("a") == pytest.approx(1.0)
    clock.now += 10.0
    assert [throttle.failed("a") for _ in range(10)] == [None] * 10  # a full burst again after 10 quiet seconds
    assert throttle.failed("b") is None


@pytest.mark.no_database
def test_gcra_forgets_clients_to_stay_bounded() -> None:
    clock = FakeClock()
    throttle = FailedLogins(burst=3, per_second=1.0, clock=clock, max_clients=100)
    for index in range(1000):
        throttle.failed(f"client-{index}")
        clock.now += 0.001
    assert len(throttle) <= 100
    clock.now += 10.0
    throttle.failed("late")
    throttle.failed("late")  # still counted: recent clients are kept
    assert len(throttle) <= 101
