"""The API versions of messaging as views of the same records.

v2.1 speaks numbers as stored (`12065551234`); v2.2 speaks E.164 (`+12065551234`) in requests,
responses, the callbacks of messages sent through it and the inbound callbacks to URLs set through it,
and links to `/v2.2/` (messages and media)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any

import msgspec

from telroute.errors import Unprocessable
from telroute.kit.db import Row
from telroute.kit.wire import PHONE_NUMBER, SelfLink
from telroute.messages import schemas

NUMBER_FIELDS = ("to", "from")
# What `View.number_out` makes of a stored number in the E.164 view: the same digits after a `+`.
E164Number = Annotated[
    str, msgspec.Meta(pattern=r"^\+" + PHONE_NUMBER.removeprefix("^"), description="E.164: `+` and 11 digits.")
]


@dataclass(frozen=True)
class View:
    version: str
    e164: bool

    @property
    def prefix(self) -> str:
        return f"/v{self.version}"

    def number_out(self, stored: str) -> str:
        return f"+{stored}" if self.e164 and stored and not stored.startswith("+") else stored

    def numbers_in(self, attributes: dict[str, Any], pointer: str) -> dict[str, Any]:
        """The send attributes with E.164 `to`/`from` turned into stored digits (v2.2 refuses others)."""
        if not self.e164:
            return attributes
        return {
            name: _digits_of(value, f"{pointer}/{name}") if name in NUMBER_FIELDS else value
            for name, value in attributes.items()
        }

    def attributes(self, attributes: schemas.MdrAttributes) -> schemas.MdrAttributes:
        """MDR attributes (from `schemas.mdr_attributes`) with their numbers in this view's format."""
        attributes.to = self.number_out(attributes.to)
        attributes.from_ = self.number_out(attributes.from_)
        return attributes

    def mdr(self, resource: schemas.Mdr) -> schemas.Mdr:
        self.attributes(resource.attributes)
        return resource

    def message_document(self, document: schemas.MessageDocument, base: str) -> schemas.MessageDocument:
        """A message document in this view: its numbers, and its media linked under this view's path."""
        self.attributes(document.data.attributes)
        if document.included is not msgspec.UNSET:
            for item in document.included:
                item.links = SelfLink(f"{base}{self.prefix}/media/{item.id}")
        return document

    def accepted(self, public_id: str, base: str) -> schemas.MessageAccepted:
        document = schemas.accepted(public_id, base)
        document.data.links = SelfLink(f"{base}{self.prefix}/messages/{public_id}")
        return document


V21 = View("2.1", e164=False)
V22 = View("2.2", e164=True)


def of_version(version: str | None) -> View:
    return V22 if version == V22.version else V21


def of_message(message: Row) -> View:
    return of_version(message["api_version"])


def receipt_callback(message: Row, receipt: dict[str, Any], base: str) -> dict[str, Any]:
    """A DLR callback in the version the message was sent through (its related MDR link)."""
    document = schemas.receipt_callback(message, receipt, base)
    view = of_message(message)
    document["data"]["links"]["related"] = f"{base}{view.prefix}/messages/{message['public_id']}"
    return document


def inbound_callback(message: Row, media: list[Row], base: str, callback_url: str, view: View) -> dict[str, Any]:
    """An inbound callback in `view`: its numbers, and its media linked under the view's path."""
    document = schemas.inbound_callback(message, media, base, callback_url)
    attributes = document["data"]["attributes"]
    for name in NUMBER_FIELDS:
        attributes[name] = view.number_out(attributes[name])
    for item in document.get("included", []):
        item["links"]["self"] = f"{base}{view.prefix}/media/{item['id']}"
    return document


def _digits_of(value: Any, pointer: str) -> Any:
    if value is None:
        return value  # the shared validation reports a missing number
    if not isinstance(value, str) or not value.startswith("+") or not value[1:].isascii() or not value[1:].isdigit():
        raise Unprocessable(
            f"{pointer.rsplit('/', 1)[-1]} must be an E.164 number such as +12065551234", pointer=pointer
        )
    return value[1:]
