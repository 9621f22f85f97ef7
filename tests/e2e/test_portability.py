"""`POST /v2/portorders/portability` as the clients send it: the Python SDK's form
(`PortingController.checkPortability`: `requests` with `data={"numbers": [...]}`, `accept: application/json`)
and the JSON of Flowroute's reference; per-number answers, never a 500."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

import httpx
import pytest

from telroute.numbers.inventory import InventoryRow
from tests.e2e.conftest import assert_error
from tests.support import loopback

Buy = Callable[[httpx.Client, str], str]
PATH = "/v2/portorders/portability"
SDK_HEADERS = {"accept": "application/json", "user-agent": "Flowroute SDK v3.0"}
FORM = "application/x-www-form-urlencoded"
OUTSIDE = ["+14252081174", "+18002255277"]  # valid NANP numbers outside the seeded inventory


def _outside(seeded: dict[str, InventoryRow]) -> list[str]:
    assert not {number[1:] for number in OUTSIDE} & set(seeded)
    return OUTSIDE


def _python_sdk(client: httpx.Client, numbers: list[str]) -> httpx.Response:
    """The bytes `requests` sends for `data={"numbers": numbers}`: one `numbers=` pair per number."""
    headers = {**SDK_HEADERS, "content-type": FORM}
    return client.post(PATH, content=urlencode({"numbers": numbers}, doseq=True).encode(), headers=headers)


def _data(response: httpx.Response) -> dict[str, Any]:
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/vnd.api+json"
    document: dict[str, Any] = response.json()
    assert list(document) == ["data", "meta"]
    data: dict[str, Any] = document["data"]
    assert list(data) == ["hypernetwork_enabled", "nonportable", "portable"]
    return data


def test_python_sdk_form_request_reports_each_number(
    api: httpx.Client, stranger: httpx.Client, buy: Buy, seeded: dict[str, InventoryRow]
) -> None:
    owned_by_other = buy(stranger, "1808")
    for_sale = next(value for value in seeded if value.startswith("1512"))
    numbers = [*_outside(seeded), f"+{owned_by_other}", for_sale, "12345"]
    response = _python_sdk(api, numbers)
    document = response.json()
    assert _data(response) == {
        "hypernetwork_enabled": [],
        "nonportable": [f"+{owned_by_other}", for_sale, "12345"],
        "portable": OUTSIDE,
    }
    reasons = document["meta"]["nonportable_reasons"]
    assert reasons[f"+{owned_by_other}"] == reasons[for_sale] == "already_served_here"  # who owns it: not said
    assert reasons["12345"].startswith("malformed: ")


def test_the_sdk_demo_numbers_without_plus_are_accepted_and_echoed_as_given(
    api: httpx.Client, seeded: dict[str, InventoryRow]
) -> None:
    # number_route_message_demo.py: numbers = ['14254664444', '18827833439']
    demo = ["14254664444", "18827833439"]
    assert not set(demo) & set(seeded)
    assert _data(_python_sdk(api, demo))["portable"] == demo


def test_documented_json_request(api: httpx.Client, buy: Buy, seeded: dict[str, InventoryRow]) -> None:
    mine = buy(api, "1808")
    body = {"numbers": [*_outside(seeded), f"+{mine}"]}
    response = api.post(PATH, json=body, headers={"accept": "application/json"})
    assert _data(response) == {"hypernetwork_enabled": [], "nonportable": [f"+{mine}"], "portable": OUTSIDE}


@pytest.mark.parametrize(
    ("content", "content_type"),
    [
        (b"numbers=%2B14252081174,%2B18002255277", FORM),  # comma-delimited, as the SDK's docstring allows
        (b"numbers[]=%2B14252081174&numbers[]=%2B18002255277", FORM),
        (b"numbers[0]=%2B14252081174&numbers[1]=%2B18002255277", FORM),
        (b"numbers=+14252081174&numbers=+18002255277", FORM),  # `+` left unencoded reads as a space
        (b'{"numbers": "+14252081174,+18002255277"}', "application/json"),
        (b'{"numbers": ["+14252081174", "+18002255277"]}', FORM),  # curl -d without a Content-Type
        (b'{"data": {"attributes": {"numbers": ["+14252081174", "+18002255277"]}}}', "application/vnd.api+json"),
    ],
)
def test_other_spellings_of_the_list(api: httpx.Client, content: bytes, content_type: str) -> None:
    response = api.post(PATH, content=content, headers={"content-type": content_type})
    assert [number.lstrip("+") for number in _data(response)["portable"]] == [n[1:] for n in OUTSIDE]


def test_duplicates_are_answered_once(api: httpx.Client) -> None:
    assert _data(api.post(PATH, json={"numbers": [OUTSIDE[0], OUTSIDE[0]]}))["portable"] == [OUTSIDE[0]]


@pytest.mark.parametrize(
    ("content", "content_type", "pointer"),
    [
        (b"", "application/json", ""),
        (b"{", "application/json", ""),
        (b"[]", "application/json", ""),
        (b"{}", "application/json", "/numbers"),
        (b'{"numbers": []}', "application/json", "/numbers"),
        (b'{"numbers": [" ", ","]}', "application/json", "/numbers"),
        (b'{"numbers": [null]}', "application/json", "/numbers/0"),
        (b'{"numbers": ["+14252081174", {"a": 1}]}', "application/json", "/numbers/1"),
        (b'{"numbers": 5}', "application/json", "/numbers"),
        (b"other=1", FORM, "/numbers"),
        (b"numbers=%00", FORM, "/numbers"),
        (b"numbers=%FF", FORM, ""),
    ],
)
def test_malformed_bodies_are_400_or_422(api: httpx.Client, content: bytes, content_type: str, pointer: str) -> None:
    response = api.post(PATH, content=content, headers={"content-type": content_type})
    assert response.status_code in (400, 422), response.text
    assert_error(response, response.status_code, pointer=pointer)


def test_too_many_numbers_is_422(api: httpx.Client) -> None:
    numbers = [f"+1206555{index:04d}" for index in range(501)]
    assert_error(api.post(PATH, json={"numbers": numbers}), 422, pointer="/numbers")


def test_needs_credentials(server: Any) -> None:
    with loopback.client(base_url=server.url) as anonymous:
        assert_error(anonymous.post(PATH, json={"numbers": OUTSIDE}), 401)
