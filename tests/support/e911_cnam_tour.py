"""The E911 and CNAM part of the OpenAPI conformance tour (tests/e2e/test_openapi_conformance.py): every
operation answered with its success at least once, and a refusal of each kind, through the SDKs' requests."""

from __future__ import annotations

import httpx

from tests.support.flowroute_sdks import NodeSdk, PythonSdk, e911_body
from tests.support.server import Server, run_cli

ADDRESS = {
    "label": "Tour", "first_name": "Maria", "last_name": "Bermudez", "street_name": "20th Ave SW",
    "street_number": "7742", "city": "Seattle", "state": "WA", "country": "USA", "zipcode": "98106",
}  # fmt: skip


def tour(api: httpx.Client, server: Server, number: str) -> None:
    python, node = PythonSdk(api), NodeSdk(api)
    assert python.validate_address(**ADDRESS).status_code == 204
    assert python.validate_address(**{**ADDRESS, "zipcode": "10001"}).status_code == 422
    address = python.create_address(**ADDRESS).json()["data"]["id"]
    assert python.list_e911s(state="WA").status_code == 200
    assert python.get_e911(address).status_code == 200
    assert python.update_address(address, last_name="Wiley").status_code == 200
    assert node.update_and_validate_an_existing_e911_address(address, e911_body(city="")).status_code == 400
    assert python.associate(address, number).status_code == 204
    assert python.list_dids_for_e911(address).status_code == 200
    assert python.delete_address(address).status_code == 422
    assert python.disconnect(number).status_code == 204
    assert python.delete_address(address).status_code == 204
    preset = python.create_cnam_record("TOUR NAME").json()["data"]["id"]
    assert node.create_a_new_cnam_record("TOUR NAME").status_code == 422
    assert python.list_cnams(is_approved=False).status_code == 200
    assert python.get_cnam(preset).status_code == 200
    run_cli(server.data_dir, "cnam", "approve", preset)
    for associate, unassociate in (
        (python.associate_cnam(preset, number), python.unassociate_cnam(number)),
        (node.update_assign_a_cnam_record_to_your_phone_number(number, preset),
         node.delete_unassign_a_cnam_record_from_your_phone_number(number)),
    ):  # fmt: skip
        assert (associate.status_code, unassociate.status_code) == (202, 202)
    assert python.remove_cnam(preset).status_code == 204
