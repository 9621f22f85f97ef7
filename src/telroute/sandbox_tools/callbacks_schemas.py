"""The wire shapes of the sandbox's callback view: a callback try as a Struct, rendered with msgspec and the
source of its OpenAPI components."""

from __future__ import annotations

from typing import Annotated

import msgspec

from telroute.kit.db import Row
from telroute.kit.wire import Closed, PageLinks, page_links
from telroute.sandbox_tools import callbacks_model
from telroute.sandbox_tools.callbacks_model import Kind, Outcome
from telroute.sandbox_tools.model import format_moment
from telroute.sandbox_tools.schemas import Moment

# The body telroute sent, a JSON object, stored as the text it sent and rendered as is.
Payload = Annotated[msgspec.Raw, msgspec.Meta(extra_json_schema={"type": "object"})]


class SandboxCallbackAttributes(Closed):
    message_id: str | None
    kind: Kind
    url: str
    payload: Payload | None
    attempt: Annotated[int, msgspec.Meta(ge=1)]
    status: int | None
    latency_ms: float | None
    error: str | None
    dead_lettered: bool
    outcome: Outcome
    created_at: Moment


class SandboxCallback(Closed, tag_field="type", tag="sandbox_callback"):
    id: str
    attributes: SandboxCallbackAttributes


class SandboxCallbackDocument(Closed):
    data: SandboxCallback


class SandboxCallbacks(Closed):
    data: list[SandboxCallback]
    links: PageLinks


# The documents the callback view answers with (their parts are components too).
DOCUMENTS = (SandboxCallbackDocument, SandboxCallbacks)


def callback_record(row: Row) -> SandboxCallback:
    dead_lettered = bool(row["dead_lettered"])
    attributes = SandboxCallbackAttributes(
        message_id=row["message_public_id"],
        kind=row["event"],
        url=row["url"],
        payload=None if row["payload"] is None else msgspec.Raw(row["payload"]),
        attempt=row["attempt"],
        status=row["status_code"],
        latency_ms=row["latency_ms"],
        error=row["error"],
        dead_lettered=dead_lettered,
        outcome=callbacks_model.outcome_of(row["status_code"], dead_lettered),
        created_at=format_moment(row["created_at_us"]),
    )
    return SandboxCallback(id=str(row["id"]), attributes=attributes)


def callbacks_page(rows: list[Row], links: dict[str, str]) -> SandboxCallbacks:
    return SandboxCallbacks(data=[callback_record(row) for row in rows], links=page_links(links))
