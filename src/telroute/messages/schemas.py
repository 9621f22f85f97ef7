"""The wire shapes of messaging: the send body, MDRs, media and callback payloads. Response documents are
Structs, rendered with msgspec and the source of their OpenAPI components."""

from __future__ import annotations

from typing import Annotated, Any, Literal

import msgspec

from telroute.kit.clock import format_timestamp
from telroute.kit.db import Row
from telroute.kit.wire import MediaId, MessageId, PageLinks, PhoneNumber, SelfLink, Timestamp, Url, page_links
from telroute.messages.model import Encoding, Status, amount_display

# A Status, or "" for an inbound message (one union may not hold an enum and a string literal).
MdrStatus = Annotated[str, msgspec.Meta(extra_json_schema={"enum": [*(status.value for status in Status), ""]})]


class _Closed(msgspec.Struct, forbid_unknown_fields=True):
    """Response shapes: their schema allows no other keys."""


class DeliveryReceipt(_Closed):
    status: str
    status_code: int | None
    status_code_description: str
    timestamp: Timestamp
    level: Literal[1, 2]


class MdrAttributes(_Closed, rename={"from_": "from"}):
    body: str | None
    status: MdrStatus
    direction: Literal["outbound", "inbound"]
    amount_nanodollars: Annotated[int, msgspec.Meta(ge=0)]
    amount_display: Annotated[str, msgspec.Meta(pattern=r"^\$\d+\.\d{4}$")]
    to: PhoneNumber
    from_: PhoneNumber
    message_encoding: Encoding
    timestamp: Timestamp
    is_mms: bool
    message_type: Literal["longcode", "toll-free"]
    delivery_receipts: list[DeliveryReceipt]


class Mdr(_Closed, tag_field="type", tag="message"):
    id: MessageId
    attributes: MdrAttributes


class MediaReference(_Closed, tag_field="type", tag="media"):
    id: MediaId


class MediaList(_Closed):
    data: list[MediaReference]


class MessageRelationships(_Closed):
    media: MediaList


class MessageDetail(_Closed, tag_field="type", tag="message"):
    id: MessageId
    attributes: MdrAttributes
    relationships: MessageRelationships | msgspec.UnsetType = msgspec.UNSET


class MediaAttributes(_Closed):
    url: Url
    file_name: Annotated[str, msgspec.Meta(pattern=r"^[A-Za-z0-9._-]+$")]
    mime_type: Annotated[str, msgspec.Meta(pattern=r"^[a-z0-9][a-z0-9!#$&^_.+-]*/[a-z0-9][a-z0-9!#$&^_.+-]*$")]
    file_size: Annotated[int, msgspec.Meta(ge=0)]


class Media(_Closed, tag_field="type", tag="media"):
    id: MediaId
    attributes: MediaAttributes
    links: SelfLink


class MessageDocument(_Closed):
    data: MessageDetail
    included: Annotated[list[Media], msgspec.Meta(min_length=1)] | msgspec.UnsetType = msgspec.UNSET


class Messages(_Closed):
    data: list[Mdr]
    links: PageLinks


class AcceptedMessage(_Closed):
    id: MessageId
    type: Literal["message"]
    links: SelfLink


class MessageAccepted(_Closed):
    data: AcceptedMessage


# The documents the messages contract answers with (their parts are components too).
DOCUMENTS = (MessageDocument, Messages, MessageAccepted)


def _receipt(row: Row) -> DeliveryReceipt:
    return DeliveryReceipt(
        status=row["status"],
        status_code=row["status_code"],
        status_code_description=row["description"],
        timestamp=format_timestamp(row["created_at_us"]),
        level=row["level"],
    )


def mdr_attributes(message: Row, receipts: list[Row]) -> MdrAttributes:
    return MdrAttributes(
        body=message["body"],
        status=message["status"],
        direction=message["direction"],
        amount_nanodollars=message["amount_nd"],
        amount_display=amount_display(message["amount_nd"]),
        to=message["to_number"],
        from_=message["from_number"],
        message_encoding=message["message_encoding"],
        timestamp=format_timestamp(message["created_at_us"]),
        is_mms=bool(message["is_mms"]),
        message_type=message["message_type"],
        delivery_receipts=[_receipt(row) for row in receipts],
    )


def mdr(message: Row, receipts: list[Row]) -> Mdr:
    return Mdr(id=message["public_id"], attributes=mdr_attributes(message, receipts))


def messages_page(items: list[Mdr], links: dict[str, str]) -> Messages:
    return Messages(data=items, links=page_links(links))


def media_resource(row: Row, base: str) -> Media:
    attributes = MediaAttributes(
        url=row["url"], file_name=row["file_name"], mime_type=row["mime_type"], file_size=row["file_size"]
    )
    return Media(id=row["public_id"], attributes=attributes, links=SelfLink(f"{base}/v2.1/media/{row['public_id']}"))


def message_document(message: Row, receipts: list[Row], media: list[Row], base: str) -> MessageDocument:
    """A message document; an MMS adds `relationships.media` and the media objects in `included`."""
    detail = MessageDetail(id=message["public_id"], attributes=mdr_attributes(message, receipts))
    if not media:
        return MessageDocument(data=detail)
    detail.relationships = MessageRelationships(MediaList([MediaReference(row["public_id"]) for row in media]))
    return MessageDocument(data=detail, included=[media_resource(row, base) for row in media])


def accepted(public_id: str, base: str) -> MessageAccepted:
    links = SelfLink(f"{base}/v2.1/messages/{public_id}")
    return MessageAccepted(AcceptedMessage(id=public_id, type="message", links=links))


def inbound_callback(message: Row, media: list[Row], base: str, callback_url: str) -> dict[str, Any]:
    """The MDR with its attributes in alphabetical order and `message_callback_url` among them."""
    attributes = msgspec.to_builtins(mdr_attributes(message, []))
    attributes["message_callback_url"] = callback_url
    document = msgspec.to_builtins(message_document(message, [], media, base))
    document["data"]["attributes"] = dict(sorted(attributes.items()))
    return dict(document)


def receipt_callback(message: Row, receipt: dict[str, Any], base: str) -> dict[str, Any]:
    code = receipt["status_code"]
    return {
        "data": {
            "type": "delivery_receipt",
            "id": message["public_id"],
            "attributes": {
                "body": message["body"],
                "level": receipt["level"],
                "status": receipt["status"],
                "status_code": None if code is None else str(code),
                "status_code_description": receipt["description"],
                "timestamp": format_timestamp(receipt["created_at_us"]),
            },
            "links": {"related": f"{base}/v2.1/messages/{message['public_id']}"},
        }
    }
