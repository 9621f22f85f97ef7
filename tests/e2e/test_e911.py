"""E911 addresses (/v2/e911s) driven by the requests the official SDKs send, against a real server."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import pytest

from tests.e2e.conftest import assert_error, query_of
from tests.support.flowroute_sdks import NodeSdk, PythonSdk, e911_body

Buy = Callable[[httpx.Client, str], str]
PREFIX = "1503"  # numbers this module buys (no other module reads 503)
POINTER = "/data/attributes"
SEATTLE = {
    "label": "E911 Test", "first_name": "Chris", "last_name": "Smith", "street_name": "3rd Ave",
    "street_number": "1218", "city": "Seattle", "state": "WA", "country": "US", "zipcode": "98101",
}  # fmt: skip


def _attributes(**changes: Any) -> dict[str, Any]:
    fields = {**SEATTLE, **changes}
    attributes = {key: value for key, value in fields.items() if key != "zipcode"}
    attributes["zip"] = fields["zipcode"]
    attributes.setdefault("address_type", None)
    attributes.setdefault("address_type_number", None)
    return dict(sorted(attributes.items()))


def _created(sdk: PythonSdk, **changes: Any) -> dict[str, Any]:
    response = sdk.create_address(**{**SEATTLE, **changes})
    assert response.status_code == 201, response.text
    resource: dict[str, Any] = response.json()["data"]
    return resource


def test_create_get_and_list_as_the_python_sdk(api: httpx.Client, base: str) -> None:
    sdk = PythonSdk(api)
    created = sdk.create_address(**SEATTLE, address_type="Suite", address_type_number="333")
    assert created.status_code == 201, created.text
    assert created.headers["content-type"] == "application/vnd.api+json"
    resource = created.json()["data"]
    assert resource["id"].isdigit()
    assert resource == {
        "type": "e911",
        "id": resource["id"],
        "attributes": _attributes(address_type="Suite", address_type_number="333"),
        "links": {"self": f"{base}/v2/e911s/{resource['id']}"},
    }
    assert sdk.get_e911(resource["id"]).json() == {"data": resource}
    second = _created(sdk, label="Second", state="NY", city="New York", zipcode="10001")
    listed = sdk.list_e911s(limit=1).json()
    assert listed["data"] == [resource]
    assert query_of(listed["links"]["self"]) == "limit=1&offset=0"
    assert query_of(listed["links"]["next"]) == "limit=1&offset=1"
    assert sdk.list_e911s(state="ny").json()["data"] == [second]
    assert NodeSdk(api).list_account_e911_addresses(limit=3).json()["data"] == [resource, second]


def test_node_sdk_creates_and_validates_its_demo_address(api: httpx.Client) -> None:
    node = NodeSdk(api)
    body = e911_body(label="Belfry Oddities II", first_name="Jim", last_name="Law", street_number="123",
                     street_name="Smith St", city="Seattle", state="WA", country="US", zip="98101")  # fmt: skip
    assert node.validate_an_e911_address(body).status_code == 204
    created = node.create_and_validate_a_new_e911_address(body)
    assert created.status_code == 201, created.text
    assert created.json()["data"]["attributes"]["label"] == "Belfry Oddities II"


def test_validate_answers_204_and_stores_nothing(api: httpx.Client) -> None:
    sdk = PythonSdk(api)
    response = sdk.validate_address(**SEATTLE)
    assert response.status_code == 204 and response.content == b""
    assert sdk.list_e911s().json()["data"] == []


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"state": "ZZ"}, "state"),
        ({"zipcode": "10001"}, "zip"),  # a New York ZIP in Washington
        ({"zipcode": "00000"}, "zip"),
        ({"zipcode": "98l01"}, "zip"),
        ({"country": "CA"}, "state"),  # the README's own example: WA is no Canadian province
        ({"country": "Mars"}, "country"),
    ],
)
def test_a_place_that_is_not_real_is_422_pointing_at_the_field(
    api: httpx.Client, changes: dict[str, str], field: str
) -> None:
    sdk = PythonSdk(api)
    fields = {**SEATTLE, **changes}
    assert_error(sdk.validate_address(**fields), 422, pointer=f"{POINTER}/{field}")
    assert_error(sdk.create_address(**fields), 422, pointer=f"{POINTER}/{field}")
    assert sdk.list_e911s().json()["data"] == []


@pytest.mark.parametrize(
    ("attributes", "field"),
    [
        ({"label": "x" * 65}, "label"),
        ({"city": "   "}, "city"),
        ({"first_name": "Bob\nSmith"}, "first_name"),
        ({"street_number": 12.5}, "street_number"),
        ({"street_number": -5}, "street_number"),
        ({"zip": 10**20}, "zip"),
        ({"state": "Washington"}, "state"),
        ({"surprise": "field"}, "surprise"),
        ({"address_type": "Suite"}, "address_type_number"),
        ({"zip": "98101", "zip_code": "98104"}, "zip_code"),
    ],
)
def test_malformed_attributes_are_400_pointing_at_the_field(
    api: httpx.Client, attributes: dict[str, Any], field: str
) -> None:
    base_attributes = {key: value for key, value in SEATTLE.items() if key != "zipcode"} | {"zip": "98101"}
    body = e911_body(**{**base_attributes, **attributes})
    assert_error(NodeSdk(api).create_and_validate_a_new_e911_address(body), 400, pointer=f"{POINTER}/{field}")


def test_a_missing_required_field_is_400_and_unicode_names_are_kept(api: httpx.Client) -> None:
    node = NodeSdk(api)
    body = e911_body(label="Café", first_name="José", last_name="Nuñez", street_name="3rd Ave",
                     street_number="1218", state="WA", country="USA", zip=98101)  # fmt: skip
    assert_error(node.create_and_validate_a_new_e911_address(body), 400, pointer=f"{POINTER}/city")
    body["data"]["attributes"]["city"] = "Seattle"
    created = node.create_and_validate_a_new_e911_address(body)
    assert created.status_code == 201, created.text
    attributes = created.json()["data"]["attributes"]
    assert (attributes["first_name"], attributes["zip"], attributes["country"]) == ("José", "98101", "US")


@pytest.mark.parametrize(
    ("content", "pointer"),
    [(b"", ""), (b"{", ""), (b"[]", ""), (b'{"data": {"type": "route", "attributes": {}}}', "/data/type"),
     (b'{"data": {"attributes": []}}', "/data/attributes"), (b"\xff\xfe", "")],
)  # fmt: skip
def test_a_malformed_body_is_400(api: httpx.Client, content: bytes, pointer: str) -> None:
    assert_error(api.post("/v2/e911s", content=content), 400, pointer=pointer)


def test_update_as_the_python_sdk_echoes_the_record_back(api: httpx.Client) -> None:
    sdk = PythonSdk(api)
    record = _created(sdk, address_type="Suite", address_type_number="333")
    updated = sdk.update_address(record["id"], last_name="Wiley", zipcode="98104")
    assert updated.status_code == 200, updated.text
    expected = {**record, "attributes": _attributes(last_name="Wiley", zipcode="98104")}
    assert updated.json() == {"data": expected}  # the SDK sends address_type null unless given: cleared
    assert sdk.get_e911(record["id"]).json() == {"data": expected}


def test_update_as_the_node_sdk_changes_only_what_it_sends(api: httpx.Client) -> None:
    record = _created(PythonSdk(api))
    body = e911_body(label="Funeral Homes", first_name="Death", last_name="Crow")
    updated = NodeSdk(api).update_and_validate_an_existing_e911_address(record["id"], body)
    assert updated.status_code == 200, updated.text
    changed = _attributes(label="Funeral Homes", first_name="Death", last_name="Crow")
    assert updated.json()["data"]["attributes"] == changed


def test_an_update_is_checked_again_and_refused_whole(api: httpx.Client) -> None:
    sdk = PythonSdk(api)
    record = _created(sdk)
    assert_error(sdk.update_address(record["id"], zipcode="10001"), 422, pointer=f"{POINTER}/zip")
    body = {"data": {"type": "e911", "id": "1" + record["id"], "attributes": {"label": "x"}}}
    assert_error(NodeSdk(api).update_and_validate_an_existing_e911_address(record["id"], body), 400, pointer="/data/id")
    assert sdk.get_e911(record["id"]).json() == {"data": record}


def test_associate_show_list_and_disconnect_a_number(api: httpx.Client, base: str, buy: Buy) -> None:
    sdk = PythonSdk(api)
    record = _created(sdk)
    number = buy(api, PREFIX)
    associated = sdk.associate(record["id"], number)
    assert associated.status_code == 204 and associated.content == b""
    assert sdk.associate(record["id"], number).status_code == 204  # again: no error, as documented
    detail = api.get(f"/v2/numbers/{number}").json()
    assert detail["data"]["relationships"]["e911_address"] == {"data": {"type": "e911", "id": record["id"]}}
    numbers = sdk.list_dids_for_e911(record["id"]).json()
    assert numbers == {
        "data": [
            {
                "type": "number",
                "id": number,
                "attributes": {"alias": None, "value": number},
                "links": {"self": f"{base}/v2/numbers/{number}"},
            }
        ],
        "links": {"self": f"{base}/v2/e911s/{record['id']}/relationships/numbers?limit=10&offset=0"},
    }
    in_use = assert_error(sdk.delete_address(record["id"]), 422)
    assert in_use["code"] == "e911_address_in_use"
    assert sdk.disconnect(number).status_code == 204
    assert api.get(f"/v2/numbers/{number}").json()["data"]["relationships"]["e911_address"] == {"data": None}
    assert sdk.list_dids_for_e911(record["id"]).json()["data"] == []
    assert sdk.delete_address(record["id"]).status_code == 204
    assert_error(sdk.get_e911(record["id"]), 404)


def test_node_sdk_assigns_and_deactivates(api: httpx.Client, buy: Buy) -> None:
    node = NodeSdk(api)
    record = _created(PythonSdk(api))
    number = buy(api, PREFIX)
    assert node.update_assign_a_valid_e911_address_to_your_phone_number(number, record["id"]).status_code == 204
    assert node.delete_deactivate_e911_service_for_your_phone_number(number).status_code == 204
    assert api.get(f"/v2/numbers/{number}").json()["data"]["relationships"]["e911_address"] == {"data": None}


def test_a_released_number_frees_its_address(api: httpx.Client, buy: Buy) -> None:
    sdk = PythonSdk(api)
    record = _created(sdk)
    number = buy(api, PREFIX)
    assert sdk.associate(record["id"], number).status_code == 204
    assert api.delete(f"/v2/numbers/{number}").status_code == 204
    assert sdk.list_dids_for_e911(record["id"]).json()["data"] == []
    assert sdk.delete_address(record["id"]).status_code == 204


def test_another_accounts_address_and_number_are_404(api: httpx.Client, stranger: httpx.Client, buy: Buy) -> None:
    mine, theirs = PythonSdk(api), PythonSdk(stranger)
    record = _created(mine)
    my_number, their_number = buy(api, PREFIX), buy(stranger, PREFIX)
    assert_error(theirs.get_e911(record["id"]), 404)
    assert_error(stranger.patch(f"/v2/e911s/{record['id']}", json=e911_body(label="x")), 404)
    assert_error(theirs.delete_address(record["id"]), 404)
    assert_error(theirs.list_dids_for_e911(record["id"]), 404)
    assert_error(theirs.associate(record["id"], their_number), 404)
    assert_error(theirs.associate(_created(theirs)["id"], my_number), 404)
    assert_error(theirs.disconnect(my_number), 404)
    assert theirs.list_e911s().json()["data"] != [record]
    assert mine.get_e911(record["id"]).json() == {"data": record}


@pytest.mark.parametrize(("path", "status"), [("/v2/e911s/abc", 404), ("/v2/e911s/99999999999", 404)])
def test_unknown_addresses_are_404(api: httpx.Client, path: str, status: int) -> None:
    assert_error(api.get(path), status)


def test_bad_paging_and_state_filters_are_400(api: httpx.Client) -> None:
    assert_error(api.get("/v2/e911s", params={"limit": "0"}), 400, parameter="limit")
    assert_error(api.get("/v2/e911s", params={"state": "Washington"}), 400, parameter="state")
    assert_error(api.patch("/v2/numbers/12/relationships/e911s/1"), 400, parameter="id")
