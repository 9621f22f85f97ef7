"""The API versions of messaging as views of the same records.

v2.1 speaks numbers as stored (`12065551234`); v2.2 speaks E.164 (`+12065551234`) in requests,
responses and the callbacks of messages sent through it, and links to `/v2.2/` (messages and media)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from telroute.errors import Unprocessable
from telroute.kit.db import Row
from telroute.messages import schemas

NUMBER_FIELDS = ("to", "from")


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

    def resource(self, resource: dict[str, Any]) -> dict[str, Any]:
        """An MDR resource (from `schemas.mdr`) with its numbers in this view's format."""
        attributes = resource["attributes"]
        for name in NUMBER_FIELDS:
            if isinstance(attributes.get(name), str):
                attributes[name] = self.number_out(attributes[name])
        return resource

    def media_links(self, document: dict[str, Any], base: str) -> dict[str, Any]:
        """A message document (`schemas.with_media`) whose media link this view's media path."""
        for item in document.get("included", []):
            item["links"]["self"] = f"{base}{self.prefix}/media/{item['id']}"
        return document

    def accepted(self, public_id: str, base: str) -> dict[str, Any]:
        document = schemas.accepted(public_id, base)
        document["data"]["links"]["self"] = f"{base}{self.prefix}/messages/{public_id}"
        return document


V21 = View("2.1", e164=False)
V22 = View("2.2", e164=True)


def of_message(message: Row) -> View:
    return V22 if message["api_version"] == V22.version else V21


def receipt_callback(message: Row, receipt: dict[str, Any], base: str) -> dict[str, Any]:
    """A DLR callback in the version the message was sent through (its related MDR link)."""
    document = schemas.receipt_callback(message, receipt, base)
    view = of_message(message)
    document["data"]["links"]["related"] = f"{base}{view.prefix}/messages/{message['public_id']}"
    return document


def _digits_of(value: Any, pointer: str) -> Any:
    if value is None:
        return value  # the shared validation reports a missing number
    if not isinstance(value, str) or not value.startswith("+") or not value[1:].isascii() or not value[1:].isdigit():
        raise Unprocessable(
            f"{pointer.rsplit('/', 1)[-1]} must be an E.164 number such as +12065551234", pointer=pointer
        )
    return value[1:]
