"""The wire shapes of E911 addresses, as Flowroute's API reference and SDK READMEs show them: response
documents as Structs, rendered with msgspec and the source of their OpenAPI components."""

from __future__ import annotations

from typing import Annotated, Literal

import msgspec

from telroute.e911.model import AddressType, AddressTypeNumber, City, Label, Name, StreetName, StreetNumber
from telroute.kit.db import Row
from telroute.kit.wire import Closed, PageLinks, PhoneNumber, SelfLink, page_links

AddressId = Annotated[str, msgspec.Meta(pattern=r"^[1-9]\d*$", description="A decimal id.")]
StoredState = Annotated[str, msgspec.Meta(pattern=r"^[A-Z]{2}$", description="Upper case, as checked.")]
StoredZip = Annotated[
    str,
    msgspec.Meta(
        pattern=r"^(\d{5}(-\d{4})?|[A-Z]\d[A-Z] ?\d[A-Z]\d)$",
        description="A US ZIP or ZIP+4, or a Canadian postal code in upper case.",
    ),
]


class E911AddressAttributes(Closed):
    """A stored address: checked and normalized (`country` as its code, `state` and `zip` upper case)."""

    label: Label
    first_name: Name
    last_name: Name
    street_name: StreetName
    street_number: StreetNumber
    address_type: AddressType | None
    address_type_number: AddressTypeNumber | None
    city: City
    state: StoredState
    country: Literal["US", "CA"]
    zip: StoredZip


class E911Address(Closed, tag_field="type", tag="e911"):
    id: AddressId
    attributes: E911AddressAttributes
    links: SelfLink


class E911AddressDocument(Closed):
    data: E911Address


class E911List(Closed):
    data: list[E911Address]
    links: PageLinks


class E911NumberAttributes(Closed):
    alias: Annotated[str, msgspec.Meta(max_length=255)] | None
    value: PhoneNumber


class E911Number(Closed, tag_field="type", tag="number"):
    id: PhoneNumber
    attributes: E911NumberAttributes
    links: SelfLink


class E911NumberList(Closed):
    data: list[E911Number]
    links: PageLinks


# The documents the E911 contract answers with (their parts are components too).
DOCUMENTS = (E911AddressDocument, E911List, E911NumberList)


def address(row: Row, base: str) -> E911Address:
    attributes = E911AddressAttributes(
        label=row["label"],
        first_name=row["first_name"],
        last_name=row["last_name"],
        street_name=row["street_name"],
        street_number=row["street_number"],
        address_type=row["address_type"],
        address_type_number=row["address_type_number"],
        city=row["city"],
        state=row["state"],
        country=row["country"],
        zip=row["zip"],
    )
    return E911Address(id=str(row["id"]), attributes=attributes, links=SelfLink(f"{base}/v2/e911s/{row['id']}"))


def address_document(row: Row, base: str) -> E911AddressDocument:
    return E911AddressDocument(address(row, base))


def addresses(rows: list[Row], base: str, links: dict[str, str]) -> E911List:
    return E911List(data=[address(row, base) for row in rows], links=page_links(links))


def number(row: Row, base: str) -> E911Number:
    value = row["value"]
    attributes = E911NumberAttributes(alias=row["alias"], value=value)
    return E911Number(id=value, attributes=attributes, links=SelfLink(f"{base}/v2/numbers/{value}"))


def numbers(rows: list[Row], base: str, links: dict[str, str]) -> E911NumberList:
    return E911NumberList(data=[number(row, base) for row in rows], links=page_links(links))
