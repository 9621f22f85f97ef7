"""The console's JSON shapes, built from rows: plain dicts the page's script renders as text. Pure."""

from __future__ import annotations

from typing import Any

from telroute.kit.clock import format_timestamp
from telroute.kit.db import Row
from telroute.messages.model import amount_display
from telroute.text.segments import GSM7, GSM_BASIC, GSM_EXTENSION, encoding_of, split_as


def summary(row: Row) -> dict[str, Any]:
    return {
        "id": row["public_id"],
        "direction": row["direction"],
        "from": row["from_number"],
        "to": row["to_number"],
        "body": row["body"] or "",
        "is_mms": bool(row["is_mms"]),
        "status": row["status"],
        "timestamp": format_timestamp(row["created_at_us"]),
    }


def segments_of(text: str, encoding: int) -> dict[str, Any]:
    """Each part's text, and the characters that forced UCS-2 (none for a GSM-7 text). A record whose
    text GSM-7 cannot carry is shown as UCS-2, whatever it says."""
    if encoding == GSM7 and encoding_of(text) != GSM7:
        encoding = encoding_of(text)
    parts = split_as(text, encoding)
    forcing = [] if encoding == GSM7 else sorted({c for c in text if c not in GSM_BASIC and c not in GSM_EXTENSION})
    return {
        "encoding": "GSM-7" if encoding == GSM7 else "UCS-2",
        "parts": parts,
        "ucs2_characters": forcing,
    }


def receipt(row: Row) -> dict[str, Any]:
    return {
        "level": row["level"],
        "status": row["status"],
        "code": row["status_code"],
        "description": row["description"],
        "timestamp": format_timestamp(row["created_at_us"]),
    }


def attempt(row: Row) -> dict[str, Any]:
    return {
        "event": row["event"],
        "url": row["url"],
        "attempt": row["attempt"],
        "status_code": row["status_code"],
        "latency_ms": row["latency_ms"],
        "error": row["error"],
        "timestamp": format_timestamp(row["created_at_us"]),
    }


def dead_letter(row: Row) -> dict[str, Any]:
    return {
        "id": row["id"],
        "event": row["event"],
        "url": row["url"],
        "payload": row["payload"],
        "last_error": row["last_error"],
        "attempts": row["attempts"],
        "timestamp": format_timestamp(row["created_at_us"]),
        "replayed": row["replayed_at_us"] is not None,
    }


def media(row: Row) -> dict[str, Any]:
    return {
        "id": row["public_id"],
        "file_name": row["file_name"],
        "mime_type": row["mime_type"],
        "size": row["file_size"],
    }


def number(row: Row) -> dict[str, Any]:
    callbacks = ("sms_callback", "mms_callback", "sms_dlr_callback", "mms_dlr_callback")
    return {
        "value": row["value"],
        "alias": row["alias"],
        "type": row["number_type"],
        "rate_center": row["rate_center"],
        "state": row["state"],
        "callbacks": {name: row[name] for name in callbacks},
        "e911": e911_address(row),
        "cnam": row["cnam"],
    }


def e911_address(row: Row) -> dict[str, str] | None:
    """The number's E911 address as its label and one line of text; None when it has none."""
    if row["e911_label"] is None:
        return None
    unit = " ".join(part for part in (row["e911_address_type"], row["e911_address_type_number"]) if part)
    street = f"{row['e911_street_number']} {row['e911_street_name']}" + (f", {unit}" if unit else "")
    return {
        "label": row["e911_label"],
        "address": f"{street}, {row['e911_city']}, {row['e911_state']} {row['e911_zip']}",
    }


def price(amount_nd: int) -> str:
    return amount_display(amount_nd)
