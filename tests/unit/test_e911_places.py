"""The facts an E911 address is checked against: states, ZIP codes of a state, Canadian postal codes."""

from __future__ import annotations

from dataclasses import replace

import pytest

from telroute.e911 import model, places
from telroute.e911.model import Address, AddressFields

SEATTLE = Address("Home", "Ann", "Lee", "Main St", "645", "Seattle", "wa", "usa", "98104", None, None)


@pytest.mark.parametrize(
    ("state", "zip_code"), [("WA", "98101"), ("NY", "10001"), ("PR", "00901"), ("TX", "75001-1234")]
)
def test_a_zip_code_of_its_state_passes(state: str, zip_code: str) -> None:
    places.check_us(state, zip_code)


@pytest.mark.parametrize(
    ("state", "zip_code", "field", "words"),
    [
        ("WA", "10001", "zip", "is in NY"),
        ("WA", "00000", "zip", "does not exist"),
        ("WA", "9810", "zip", "five digits"),
        ("XX", "98101", "state", "not a US state"),
    ],
)
def test_a_wrong_place_names_its_field(state: str, zip_code: str, field: str, words: str) -> None:
    with pytest.raises(places.PlaceError) as raised:
        places.check_us(state, zip_code)
    assert raised.value.field == field and words in raised.value.detail


def test_canadian_postal_codes_start_with_their_provinces_letter() -> None:
    places.check_canada("BC", "V6B 1A1")
    places.check_canada("QC", "h2x1y4")
    for province, code, field in (("BC", "M5V 2T6", "zip"), ("WA", "V6B 1A1", "state"), ("ON", "12345", "zip")):
        with pytest.raises(places.PlaceError) as raised:
            places.check_canada(province, code)
        assert raised.value.field == field


def test_a_checked_address_is_normalized() -> None:
    checked = model.checked(SEATTLE)
    assert (checked.state, checked.country, checked.zip) == ("WA", "US", "98104")


def test_an_address_type_needs_its_number_and_the_other_way_round() -> None:
    for address_type, number, missing in (("Suite", None, "address_type_number"), (None, "3", "address_type")):
        with pytest.raises(model.MissingField) as raised:
            model.checked(replace(SEATTLE, address_type=address_type, address_type_number=number))
        assert raised.value.field == missing


def test_given_folds_zip_code_into_zip_and_reads_numbers_as_text() -> None:
    fields = AddressFields(zip_code=98101, street_number=1218, address_type="")
    assert model.given(fields) == {"zip": "98101", "street_number": "1218", "address_type": None}
    with pytest.raises(places.PlaceError):
        model.given(AddressFields(zip="98101", zip_code="98104"))
