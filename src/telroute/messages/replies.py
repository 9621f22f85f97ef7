"""Sandbox replies threaded to an outbound message: `POST /sandbox/inbound` with `reply_to` (an outbound
message's id) comes from that message's `to` to its `from`, and the link is kept (`message_replies`) for
the sandbox's message view (`in_reply_to`); Flowroute's wire knows no such field."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from telroute.errors import BadRequest, Unprocessable
from telroute.kit.db import Connection, Row
from telroute.messages import repository
from telroute.messages.inputs import REPLY_TO_MAX as MAX_ID
from telroute.numbers.model import normalize_number


async def answered(connection: Connection, raw: object, pointer: str) -> Row | None:
    """The outbound message `reply_to` names (None when absent); 422 when there is none such."""
    if raw is None:
        return None
    where = f"{pointer}/reply_to"
    if not isinstance(raw, str) or not raw or len(raw) > MAX_ID:
        raise BadRequest(f"reply_to must be a message id of at most {MAX_ID} characters", pointer=where)
    row = await repository.outbound_by_public_id(connection, raw)
    if row is None:
        raise Unprocessable(f"reply_to: there is no outbound message {raw}", pointer=where)
    return row


def _same(raw: object, number: str) -> bool:
    try:
        return isinstance(raw, str) and normalize_number(raw) == number
    except ValueError:
        return False


def addressed(attributes: Mapping[str, Any], message: Row, pointer: str) -> dict[str, Any]:
    """The reply's `from` and `to`: the answered message's `to` and `from` (given ones must agree)."""
    wanted = {
        "from": (attributes.get("from"), message["to_number"]),
        "to": (attributes.get("to"), message["from_number"]),
    }
    for name, (given, number) in wanted.items():
        if given not in (None, "") and not _same(given, number):
            raise Unprocessable(
                f"{name} of a reply must be {number}, the answered message's {'to' if name == 'from' else 'from'}",
                pointer=f"{pointer}/{name}",
            )
    return {**attributes, "from": message["to_number"], "to": message["from_number"]}


async def link(connection: Connection, message_id: int, answered_id: int) -> None:
    await repository.link_reply(connection, message_id, answered_id)
