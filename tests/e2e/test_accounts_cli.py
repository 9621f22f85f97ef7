"""`telroute accounts create|rotate-secret` against a running server's data dir."""

from __future__ import annotations

import json
import re

from tests.e2e.conftest import assert_error
from tests.support.server import Server, run_cli


def test_create_json_prints_exactly_one_object_with_new_keys(server: Server) -> None:
    result = run_cli(server.data_dir, "accounts", "create", "--name", "Acme Corp", "--json")
    assert result.stdout.count("\n") == 1
    keys = json.loads(result.stdout)
    assert set(keys) == {"access_key", "secret_key", "name"}
    assert keys["name"] == "Acme Corp"
    assert re.fullmatch(r"[1-9]\d{7}", keys["access_key"])
    assert re.fullmatch(r"[A-Za-z0-9_-]{32,}", keys["secret_key"])
    with server.client((keys["access_key"], keys["secret_key"])) as client:
        assert client.get("/v2/numbers").json()["data"] == []


def test_rotate_secret_cuts_off_the_old_secret_at_once(server: Server) -> None:
    keys = json.loads(run_cli(server.data_dir, "accounts", "create", "--name", "rotating", "--json").stdout)
    access_key, old_secret = keys["access_key"], keys["secret_key"]
    with server.client((access_key, old_secret)) as old:
        assert old.get("/v2/numbers").status_code == 200  # the server has seen (and may cache) this account
        rotated = json.loads(run_cli(server.data_dir, "accounts", "rotate-secret", access_key, "--json").stdout)
        assert rotated["access_key"] == access_key
        new_secret = rotated["secret_key"]
        assert new_secret != old_secret and re.fullmatch(r"[A-Za-z0-9_-]{32,}", new_secret)
        assert_error(old.get("/v2/numbers"), 401)
    with server.client((access_key, new_secret)) as new:
        assert new.get("/v2/numbers").status_code == 200


def test_rotate_secret_of_an_unknown_account_fails(server: Server) -> None:
    result = run_cli(server.data_dir, "accounts", "rotate-secret", "12", check=False)
    assert result.returncode == 1
    assert "no account" in result.stderr
