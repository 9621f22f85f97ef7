"""CNAM presets (/v2/cnams) driven by the requests the official SDKs send, against real servers: the
shared one (approval delay 30 s, so presets stay pending unless an operator decides) and one started
with `serve --cnam-approval-delay 1`."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.e2e.conftest import assert_error, make_account, query_of
from tests.support import loopback
from tests.support.databases import database_url_for
from tests.support.flowroute_sdks import NodeSdk, PythonSdk
from tests.support.isolated import Deployment
from tests.support.messaging import admin_token, wait_until
from tests.support.server import Server, run_cli

Buy = Callable[[httpx.Client, str], str]
PREFIX = "1505"  # numbers this module buys (no other module reads 505)
RECORD_TIME = re.compile(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{6}\+00:00")
E911_FIELDS = {
    "label": "Leaving", "first_name": "Ann", "last_name": "Lee", "street_name": "Main St", "street_number": "645",
    "city": "Portland", "state": "OR", "country": "US", "zipcode": "97201",
}  # fmt: skip
HTTP_DATE = re.compile(r"[A-Z][a-z]{2}, \d\d [A-Z][a-z]{2} \d{4} \d\d:\d\d:\d\d GMT")


@pytest.fixture(scope="module")
def quick(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """A sandbox whose presets are approved by themselves a second after they are created."""
    running = Server(Path(tmp_path_factory.mktemp("cnam-quick")), args=("--cnam-approval-delay", "1")).start()
    yield running
    running.terminate()


def _created(response: httpx.Response) -> dict[str, Any]:
    assert response.status_code == 201, response.text
    resource: dict[str, Any] = response.json()["data"]
    return resource


def _decide(server: Server, *args: str) -> str:
    return run_cli(server.data_dir, "cnam", *args).stdout


def test_python_sdk_creates_a_pending_preset_form_encoded(api: httpx.Client, base: str) -> None:
    sdk = PythonSdk(api)
    preset = _created(sdk.create_cnam_record("FR H5K8"))
    attributes = dict(preset["attributes"])
    assert RECORD_TIME.fullmatch(attributes.pop("creation_datetime"))
    assert attributes == {"approval_datetime": None, "is_approved": False, "rejection_reason": None, "value": "FR H5K8"}
    assert preset["type"] == "cnam" and preset["links"] == {"self": f"{base}/v2/cnams/{preset['id']}"}
    assert sdk.get_cnam(preset["id"]).json() == {"data": preset}
    listed = sdk.list_cnams(limit=10).json()
    assert listed == {"data": [preset], "links": {"self": f"{base}/v2/cnams?limit=10&offset=0"}}


def test_node_sdk_creates_with_json_and_both_filter(api: httpx.Client, server: Server) -> None:
    node, sdk = NodeSdk(api), PythonSdk(api)
    first = _created(node.create_a_new_cnam_record("Heartwood"))
    second = _created(sdk.create_cnam_record("TEST, MARIA"))
    assert node.list_account_cnam_records(limit=3, is_approved=True).json()["data"] == []
    assert sdk.list_cnams(is_approved=False).json()["data"] == [first, second]
    _decide(server, "approve", first["id"])
    approved = sdk.list_cnams(is_approved=True).json()
    assert [item["id"] for item in approved["data"]] == [first["id"]]
    assert query_of(approved["links"]["self"]) == "is_approved=true&limit=10&offset=0"
    assert [item["id"] for item in node.list_account_cnam_records(is_approved=False).json()["data"]] == [second["id"]]
    assert_error(api.get("/v2/cnams", params={"is_approved": "maybe"}), 400, parameter="is_approved")


@pytest.mark.parametrize("value", ["SIXTEEN CHARS XY", "12065551212", "Bob!", "   ", "Émile", "A\tB"])
def test_a_value_against_the_rules_is_422(api: httpx.Client, value: str) -> None:
    assert_error(PythonSdk(api).create_cnam_record(value), 422, pointer="/value")
    assert_error(api.post("/v2/cnams", json={"data": {"attributes": {"value": value}}}), 422,
                 pointer="/data/attributes/value")  # fmt: skip
    assert api.get("/v2/cnams").json()["data"] == []


def test_a_duplicate_value_is_422(api: httpx.Client) -> None:
    _created(NodeSdk(api).create_a_new_cnam_record("BROWN BAG"))
    error = assert_error(PythonSdk(api).create_cnam_record("BROWN BAG"), 422, pointer="/value")
    assert error["detail"] == "Duplicate CNAM entry found on your account"


@pytest.mark.parametrize(
    ("headers", "content", "pointer"),
    [
        ({"content-type": "application/x-www-form-urlencoded"}, b"value=A&value=B", "/value"),
        ({"content-type": "application/x-www-form-urlencoded"}, b"name=A", "/name"),
        ({"content-type": "application/x-www-form-urlencoded"}, b"value=%FF", ""),
        ({"content-type": "application/x-www-form-urlencoded"}, b"value=A&extra=1", "/extra"),
        ({"content-type": "application/x-www-form-urlencoded"}, b"value=Bob%00", "/value"),
        ({}, b'{"value": 5}', "/value"),
        ({}, b'{"value": "A", "surprise": 1}', "/surprise"),
        ({}, b"{", ""),
        ({}, b"", ""),
        ({}, b'{"value": "' + b"A" * 300 + b'"}', "/value"),
    ],
)
def test_a_malformed_body_is_400(api: httpx.Client, headers: dict[str, str], content: bytes, pointer: str) -> None:
    assert_error(api.post("/v2/cnams", headers=headers, content=content), 400, pointer=pointer)


def test_only_an_approved_preset_is_assigned(api: httpx.Client, server: Server, buy: Buy) -> None:
    sdk = PythonSdk(api)
    preset = _created(sdk.create_cnam_record("LEATHER REBEL"))
    number = buy(api, PREFIX)
    assert_error(sdk.associate_cnam(preset["id"], number), 422)
    assert "approved" in _decide(server, "approve", preset["id"])
    shown = sdk.get_cnam(preset["id"]).json()["data"]["attributes"]
    assert shown["is_approved"] is True and RECORD_TIME.fullmatch(shown["approval_datetime"])
    assigned = sdk.associate_cnam(preset["id"], number)
    assert assigned.status_code == 202, assigned.text
    body = assigned.json()
    assert HTTP_DATE.fullmatch(body["data"]["attributes"].pop("date_created"))
    assert body == {"data": {"attributes": {}, "id": int(preset["id"]), "type": "cnam"}}
    relationship = api.get(f"/v2/numbers/{number}").json()["data"]["relationships"]["cnam_preset"]
    assert relationship == {"data": {"type": "cnam", "id": preset["id"]}}
    unassigned = sdk.unassociate_cnam(number)
    assert unassigned.status_code == 202 and unassigned.json()["data"]["id"] is None
    assert api.get(f"/v2/numbers/{number}").json()["data"]["relationships"]["cnam_preset"] == {"data": None}


def test_the_node_sdk_paths_assign_and_unassign(api: httpx.Client, server: Server, buy: Buy) -> None:
    node = NodeSdk(api)
    preset = _created(node.create_a_new_cnam_record("MORBO"))
    _decide(server, "approve", preset["id"])
    number = buy(api, PREFIX)
    assert node.update_assign_a_cnam_record_to_your_phone_number(number, preset["id"]).status_code == 202
    assert api.get(f"/v2/numbers/{number}").json()["data"]["relationships"]["cnam_preset"]["data"] is not None
    assert node.delete_unassign_a_cnam_record_from_your_phone_number(number).status_code == 202
    assert api.get(f"/v2/numbers/{number}").json()["data"]["relationships"]["cnam_preset"] == {"data": None}


def test_a_rejected_preset_says_why_and_cannot_be_decided_again(api: httpx.Client, server: Server) -> None:
    sdk = PythonSdk(api)
    preset = _created(sdk.create_cnam_record("Seattle Police"))
    _decide(server, "reject", preset["id"], "--reason", "False or fake CNAM")
    attributes = sdk.get_cnam(preset["id"]).json()["data"]["attributes"]
    assert (attributes["is_approved"], attributes["rejection_reason"]) == (False, "False or fake CNAM")
    again = run_cli(server.data_dir, "cnam", "approve", preset["id"], check=False)
    assert again.returncode == 1 and "already rejected" in again.stderr
    missing = run_cli(server.data_dir, "cnam", "approve", "99999999", check=False)
    assert missing.returncode == 1 and "does not exist" in missing.stderr


def test_removing_a_preset_takes_it_off_its_numbers(api: httpx.Client, server: Server, buy: Buy) -> None:
    sdk = PythonSdk(api)
    preset = _created(sdk.create_cnam_record("REGENCE INC"))
    _decide(server, "approve", preset["id"])
    number = buy(api, PREFIX)
    assert sdk.associate_cnam(preset["id"], number).status_code == 202
    removed = sdk.remove_cnam(preset["id"])
    assert removed.status_code == 204 and removed.content == b""
    assert_error(sdk.get_cnam(preset["id"]), 404)
    assert api.get(f"/v2/numbers/{number}").json()["data"]["relationships"]["cnam_preset"] == {"data": None}


def test_another_accounts_preset_and_number_are_404(
    api: httpx.Client, stranger: httpx.Client, server: Server, buy: Buy
) -> None:
    mine, theirs = PythonSdk(api), PythonSdk(stranger)
    preset = _created(mine.create_cnam_record("MY NAME"))
    _decide(server, "approve", preset["id"])
    my_number, their_number = buy(api, PREFIX), buy(stranger, PREFIX)
    assert_error(theirs.get_cnam(preset["id"]), 404)
    assert_error(theirs.remove_cnam(preset["id"]), 404)
    assert_error(stranger.patch(f"/v2/numbers/{their_number}/relationships/cnam/{preset['id']}"), 404)
    assert_error(stranger.delete(f"/v2/numbers/{my_number}/relationships/cnams"), 404)
    assert theirs.list_cnams().json()["data"] == []
    assert mine.get_cnam(preset["id"]).status_code == 200


@pytest.mark.parametrize("path", ["/v2/cnams/abc", "/v2/cnams/99999999999", "/v2/cnams/-1"])
def test_unknown_presets_are_404(api: httpx.Client, path: str) -> None:
    assert_error(api.get(path), 404)


def test_the_sandbox_approves_by_itself_after_the_delay(quick: Server) -> None:
    with quick.client(make_account(quick, "quick")) as client:
        sdk = PythonSdk(client)
        preset = _created(sdk.create_cnam_record("BROWN BAG"))
        assert preset["attributes"]["is_approved"] is False  # created now: the delay has not passed
        assert sdk.list_cnams(is_approved=True).json()["data"] == []

        def approved() -> dict[str, Any] | None:
            found: dict[str, Any] = sdk.get_cnam(preset["id"]).json()["data"]["attributes"]
            return found if found["is_approved"] else None

        attributes = wait_until(approved, timeout=15, what="the preset approved by itself")
        created = datetime.fromisoformat(attributes["creation_datetime"])
        assert datetime.fromisoformat(attributes["approval_datetime"]) - created == timedelta(seconds=1)
        assert [item["id"] for item in sdk.list_cnams(is_approved=True).json()["data"]] == [preset["id"]]
        assert sdk.list_cnams(is_approved=False).json()["data"] == []


def test_deleting_a_sandbox_account_removes_its_presets_and_addresses(server: Server, buy: Buy) -> None:
    keys = make_account(server, "leaving")
    with server.client(keys) as client:
        sdk = PythonSdk(client)
        preset = _created(sdk.create_cnam_record("LEAVING"))
        _decide(server, "approve", preset["id"])
        number = buy(client, PREFIX)
        address = _created(sdk.create_address(**E911_FIELDS))
        assert sdk.associate(address["id"], number).status_code == 204
        assert sdk.associate_cnam(preset["id"], number).status_code == 202
    admin = {"Authorization": f"Bearer {admin_token(server)}"}
    with loopback.client(base_url=server.url, timeout=30) as anonymous:
        assert anonymous.delete(f"/sandbox/accounts/{keys[0]}", headers=admin).status_code == 204
    deployed = Deployment(server.data_dir, database_url_for(server.data_dir))
    [left] = deployed.query(
        "SELECT (SELECT COUNT(*) FROM cnam_presets WHERE id = :preset) + "
        "(SELECT COUNT(*) FROM e911_addresses WHERE id = :address) AS count",
        {"preset": int(preset["id"]), "address": int(address["id"])},
    )
    assert left["count"] == 0
    with server.client(make_account(server, "next owner")) as client:
        assert client.post(f"/v2/numbers/{number}").status_code == 201
        relationships = client.get(f"/v2/numbers/{number}").json()["data"]["relationships"]
        assert relationships["cnam_preset"] == relationships["e911_address"] == {"data": None}
