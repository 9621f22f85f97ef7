"""E911 address bodies as the official SDKs send them, and the rules an address must meet.

Shape and lengths are Struct constraints (a refusal is a 400 pointing at the field); facts about the
place (state, ZIP, country) are checked by `places` (a 422 pointing at the field)."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Annotated

import msgspec

from telroute.e911 import places

# Printable text with at least one non-blank character: no control characters, any script.
_TEXT = r"^[^\x00-\x1f\x7f]*[^\s\x00-\x1f\x7f][^\x00-\x1f\x7f]*$"


Label = Annotated[str, msgspec.Meta(min_length=1, max_length=64, pattern=_TEXT)]
Name = Annotated[str, msgspec.Meta(min_length=1, max_length=64, pattern=_TEXT)]
StreetName = Annotated[str, msgspec.Meta(min_length=1, max_length=128, pattern=_TEXT)]
City = Annotated[str, msgspec.Meta(min_length=1, max_length=64, pattern=_TEXT)]
StreetNumber = Annotated[str, msgspec.Meta(min_length=1, max_length=16, pattern=r"^[0-9A-Za-z][0-9A-Za-z /-]*$")]
State = Annotated[str, msgspec.Meta(min_length=2, max_length=2, pattern=r"^[A-Za-z]{2}$")]
Country = Annotated[str, msgspec.Meta(min_length=2, max_length=16)]
Zip = Annotated[str, msgspec.Meta(min_length=5, max_length=10)]
AddressType = Annotated[str, msgspec.Meta(max_length=32, pattern=r"^[A-Za-z ]*$")]
AddressTypeNumber = Annotated[str, msgspec.Meta(max_length=16, pattern=r"^[0-9A-Za-z -]*$")]
# A number where text is expected (what an SDK's caller passed): its digits must fit the text's rule.
Digits16 = Annotated[int, msgspec.Meta(ge=0, le=10**16 - 1)]
ZipDigits = Annotated[int, msgspec.Meta(ge=0, le=99_999)]
Unset = msgspec.UnsetType
UNSET = msgspec.UNSET
REQUIRED = ("label", "first_name", "last_name", "street_name", "street_number", "city", "state", "country", "zip")


class AddressFields(msgspec.Struct, forbid_unknown_fields=True):
    """Every attribute the SDKs send; all optional here (a PATCH sends only some). `zip_code` is the
    Python SDK's second spelling of `zip` on update; a number for `zip` or `street_number` is taken
    as its digits (the SDKs pass through what their caller gave)."""

    label: Label | Unset = UNSET
    first_name: Name | Unset = UNSET
    last_name: Name | Unset = UNSET
    street_name: StreetName | Unset = UNSET
    street_number: StreetNumber | Digits16 | Unset = UNSET
    city: City | Unset = UNSET
    state: State | Unset = UNSET
    country: Country | Unset = UNSET
    zip: Zip | ZipDigits | Unset = UNSET
    zip_code: Zip | ZipDigits | Unset = UNSET
    address_type: AddressType | Unset | None = UNSET
    address_type_number: AddressTypeNumber | Digits16 | Unset | None = UNSET


Links = dict[str, str | None]


class E911Data(msgspec.Struct, forbid_unknown_fields=True):
    """`data` of a request; `id` and `links` come back when the Python SDK's update echoes a record."""

    attributes: AddressFields
    type: str = "e911"
    id: str | int | None = None
    links: Links | None = None


class E911Document(msgspec.Struct, forbid_unknown_fields=True):
    data: E911Data
    links: Links | None = None


@dataclass(frozen=True, slots=True)
class Address:
    """A complete, checked address as stored."""

    label: str
    first_name: str
    last_name: str
    street_name: str
    street_number: str
    city: str
    state: str
    country: str
    zip: str
    address_type: str | None
    address_type_number: str | None


class MissingField(ValueError):
    def __init__(self, field: str) -> None:
        super().__init__(f"{field} is required")
        self.field = field


def _text_of(value: object) -> object:
    return str(value) if isinstance(value, int) else value


def given(fields: AddressFields) -> dict[str, object]:
    """The attributes present in a body, numbers as text, `zip_code` folded into `zip`."""
    present = {name: _text_of(getattr(fields, name)) for name in fields.__struct_fields__}
    present = {name: value for name, value in present.items() if value is not UNSET}
    zip_code = present.pop("zip_code", UNSET)
    if zip_code is not UNSET and present.setdefault("zip", zip_code) != zip_code:
        raise places.PlaceError("zip_code", "zip_code and zip differ")
    if present.get("address_type") == "":
        present["address_type"] = None
    if present.get("address_type_number") == "":
        present["address_type_number"] = None
    return present


def complete(values: dict[str, object]) -> Address:
    """An address from all its attributes (a stored one merged with a PATCH, or a new one)."""
    for field in REQUIRED:
        if values.get(field) in (None, UNSET):
            raise MissingField(field)
    typed = {name: values.get(name) for name in (*REQUIRED, "address_type", "address_type_number")}
    return Address(**typed)  # type: ignore[arg-type]


def checked(address: Address) -> Address:
    """The address with its state, country and ZIP normalized, or PlaceError / MissingField."""
    if address.address_type is not None and address.address_type_number is None:
        raise MissingField("address_type_number")
    if address.address_type is None and address.address_type_number is not None:
        raise MissingField("address_type")
    country = places.country_code(address.country)
    state = address.state.upper()
    zip_code = address.zip.strip().upper()
    if country == places.US:
        places.check_us(state, zip_code)
    else:
        places.check_canada(state, zip_code)
    return replace(address, state=state, zip=zip_code, country=country)
