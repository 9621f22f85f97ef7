"""The scalars and links every wire shape shares, as annotated types: one declaration gives the Struct
field its constraint and the OpenAPI document its component (`scalar_components`, `struct_components`)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Annotated, Any

import msgspec

PHONE_NUMBER = r"^1[2-9]\d{2}[2-9]\d{6}$"
PHONE_NUMBER_INPUT = r"^(\+?1[2-9]\d{2}[2-9]\d{6}|[2-9]\d{2}[2-9]\d{6})$"
MESSAGE_ID = r"^mdr2-[0-9a-f]{32}$"
TIMESTAMP = r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{2}Z$"
MEDIA_ID = r"^\d{18}-[A-Za-z0-9._-]{1,105}$"
ABSOLUTE_URL = r"^https?://[^\s/?#]+"
REF_TEMPLATE = "#/components/schemas/{name}"

PhoneNumber = Annotated[str, msgspec.Meta(pattern=PHONE_NUMBER, description="An 11-digit NANP number without `+`.")]
MessageId = Annotated[str, msgspec.Meta(pattern=MESSAGE_ID, description="`mdr2-` and 32 lower-case hex digits.")]
Timestamp = Annotated[
    str, msgspec.Meta(pattern=TIMESTAMP, description="UTC, ISO 8601, exactly two fractional digits and `Z`.")
]
Url = Annotated[str, msgspec.Meta(pattern=ABSOLUTE_URL, extra_json_schema={"format": "uri"})]
RouteId = Annotated[
    str, msgspec.Meta(pattern=r"^\d+$", description="Route ids are decimal strings; `0` is the built-in sip-reg route.")
]
MediaId = Annotated[str, msgspec.Meta(pattern=MEDIA_ID, description="18 digits, `-`, the media's file name.")]
State = Annotated[str, msgspec.Meta(pattern=r"^[a-z]{2}$", description="Two-letter state or province, lower case.")]
RateCenter = Annotated[str, msgspec.Meta(pattern=r"^[a-z0-9]+$", description="Lower case.")]
Price = Annotated[float, msgspec.Meta(ge=0, description="Dollars as a JSON number (`1.25`).")]

# The scalars that are components of their own (others refer to them by name).
SCALARS: dict[str, Any] = {
    "PhoneNumber": PhoneNumber,
    "MessageId": MessageId,
    "Timestamp": Timestamp,
    "Url": Url,
    "RouteId": RouteId,
    "MediaId": MediaId,
    "State": State,
    "RateCenter": RateCenter,
    "Price": Price,
}


class Closed(msgspec.Struct, forbid_unknown_fields=True):
    """The base of response shapes: their schema allows no other keys."""


class SelfLink(msgspec.Struct, forbid_unknown_fields=True):
    self: Url


class RelatedLink(msgspec.Struct, forbid_unknown_fields=True):
    related: Url


class PageLinks(msgspec.Struct, forbid_unknown_fields=True):
    """`next` is present only when another page exists."""

    self: Url
    next: Url | msgspec.UnsetType = msgspec.UNSET


def page_links(links: dict[str, str]) -> PageLinks:
    return PageLinks(self=links["self"], next=links.get("next", msgspec.UNSET))


def scalar_components() -> dict[str, Any]:
    return {name: msgspec.json.schema(scalar) for name, scalar in SCALARS.items()}


def struct_components(types: Iterable[Any]) -> dict[str, Any]:
    """The components of these Structs and of every Struct and enum they contain, by class name."""
    return struct_references(types)[1]


def struct_references(types: Iterable[Any]) -> tuple[tuple[dict[str, Any], ...], dict[str, Any]]:
    """A `$ref` to each of these Structs, and the components of them and of all they contain."""
    references, components = msgspec.json.schema_components(list(types), ref_template=REF_TEMPLATE)
    for schema in components.values():
        schema.pop("title", None)
    return references, components
