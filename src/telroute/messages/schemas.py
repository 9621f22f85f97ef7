"""The wire shapes of messaging: the send body, MDRs, media and callback payloads."""

from __future__ import annotations

from typing import Any

import msgspec

from telroute.kit.clock import format_timestamp
from telroute.kit.db import Row
from telroute.messages.model import amount_display


class SendAttributes(msgspec.Struct, rename={"from_": "from"}):
    to: Any = None
    from_: Any = None
    body: Any = None
    is_mms: Any = None
    media_urls: Any = None
    dlr_callback: Any = None


class InboundAttributes(SendAttributes):
    """`POST /sandbox/inbound`: a send's fields, and `reply_to`, the id of the outbound message answered."""

    reply_to: Any = None


def _receipt(row: Row) -> dict[str, Any]:
    return {
        "status": row["status"],
        "status_code": row["status_code"],
        "status_code_description": row["description"],
        "timestamp": format_timestamp(row["created_at_us"]),
        "level": row["level"],
    }


def mdr_attributes(message: Row, receipts: list[Row]) -> dict[str, Any]:
    return {
        "body": message["body"],
        "status": message["status"],
        "direction": message["direction"],
        "amount_nanodollars": message["amount_nd"],
        "amount_display": amount_display(message["amount_nd"]),
        "to": message["to_number"],
        "from": message["from_number"],
        "message_encoding": message["message_encoding"],
        "timestamp": format_timestamp(message["created_at_us"]),
        "is_mms": bool(message["is_mms"]),
        "message_type": message["message_type"],
        "delivery_receipts": [_receipt(row) for row in receipts],
    }


def mdr(message: Row, receipts: list[Row]) -> dict[str, Any]:
    return {"type": "message", "id": message["public_id"], "attributes": mdr_attributes(message, receipts)}


def media_resource(row: Row, base: str) -> dict[str, Any]:
    return {
        "type": "media",
        "id": row["public_id"],
        "attributes": {
            "url": row["url"],
            "file_name": row["file_name"],
            "mime_type": row["mime_type"],
            "file_size": row["file_size"],
        },
        "links": {"self": f"{base}/v2.1/media/{row['public_id']}"},
    }


def with_media(resource: dict[str, Any], media: list[Row], base: str) -> dict[str, Any]:
    """A message document; an MMS adds `relationships.media` and the media objects in `included`."""
    document: dict[str, Any] = {"data": resource}
    if media:
        resource["relationships"] = {"media": {"data": [{"type": "media", "id": row["public_id"]} for row in media]}}
        document["included"] = [media_resource(row, base) for row in media]
    return document


def accepted(public_id: str, base: str) -> dict[str, Any]:
    return {"data": {"id": public_id, "type": "message", "links": {"self": f"{base}/v2.1/messages/{public_id}"}}}


def inbound_callback(message: Row, media: list[Row], base: str, callback_url: str) -> dict[str, Any]:
    attributes = mdr_attributes(message, [])
    attributes["message_callback_url"] = callback_url
    resource = {"type": "message", "id": message["public_id"], "attributes": dict(sorted(attributes.items()))}
    return with_media(resource, media, base)


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
