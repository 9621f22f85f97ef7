"""The wire shapes of the sandbox tools: the new-account body, the account and message records."""

from __future__ import annotations

from typing import Any

import msgspec

from telroute.kit.db import Row
from telroute.messages.schemas import mdr
from telroute.sandbox_tools.codes import one_time_codes
from telroute.sandbox_tools.model import format_moment


class NewAccountAttributes(msgspec.Struct):
    """Checked field by field in `model.new_account_request`, so that each error points at its field.
    Other keys are ignored, as in every request body."""

    name: Any = None
    numbers: Any = None
    area_code: Any = None
    callbacks: Any = None


def account_document(
    access_key: str, secret_key: str, name: str, numbers: list[str], callbacks: dict[str, str], base: str
) -> dict[str, Any]:
    return {
        "data": {
            "type": "sandbox_account",
            "id": access_key,
            "attributes": {
                "name": name,
                "access_key": access_key,
                "secret_key": secret_key,
                "numbers": numbers,
                "callbacks": callbacks,
            },
            "links": {"self": f"{base}/sandbox/accounts/{access_key}"},
        }
    }


def message_record(message: Row, receipts: list[Row], base: str) -> dict[str, Any]:
    """An MDR as `GET /v2.1/messages/{id}` renders it, plus the one-time codes found in its body and the
    outbound message it replies to (`in_reply_to`, a reply injected with `reply_to`)."""
    record = mdr(message, receipts)
    record["attributes"]["codes"] = one_time_codes(message["body"])
    record["attributes"]["in_reply_to"] = message["in_reply_to"]
    record["links"] = {"self": f"{base}/v2.1/messages/{message['public_id']}"}
    return record


def _moment(us: int | None) -> str | None:
    return None if us is None else format_moment(us)


def fault_record(row: Row, base: str) -> dict[str, Any]:
    """A fault rule as `/sandbox/faults` renders it; `seconds` is the receipt delay of a delivery rule and
    the delay of an API rule."""
    delivery = row["kind"] == "delivery"
    attributes: dict[str, Any] = {
        "kind": row["kind"],
        "match": row["match_value"],
        "outcome": row["outcome"] if delivery else _api_outcome(row["outcome"]),
        "receipt_delay" if delivery else "delay": row["seconds"],
        "remaining": row["remaining"],
        "share": row["share"],
        "expires_at": _moment(row["expires_at_us"]),
        "created_at": format_moment(row["created_at_us"]),
    }
    if delivery:
        attributes |= {"status_code": row["status_code"], "description": row["description"]}
    return {
        "type": "sandbox_fault",
        "id": str(row["id"]),
        "attributes": attributes,
        "links": {"self": f"{base}/sandbox/faults/{row['id']}"},
    }


def _api_outcome(stored: str) -> int | str:
    return int(stored) if stored.isdigit() else stored
