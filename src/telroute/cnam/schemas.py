"""The wire shapes of CNAM presets, as the SDK READMEs show them (times as Flowroute spells them):
response documents as Structs, rendered with msgspec and the source of their OpenAPI components."""

from __future__ import annotations

from datetime import UTC, datetime
from email.utils import format_datetime
from typing import Annotated, Literal

import msgspec

from telroute.cnam.model import MAX_LENGTH, Approval
from telroute.kit.db import Row
from telroute.kit.wire import Closed, PageLinks, SelfLink, page_links

PresetId = Annotated[str, msgspec.Meta(pattern=r"^[1-9]\d*$", description="A decimal id.")]
RecordTime = Annotated[
    str,
    msgspec.Meta(
        pattern=r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}\.\d{6}\+00:00$",
        description="`2018-06-01 00:09:52.513092+00:00`",
    ),
]
HttpDate = Annotated[
    str,
    msgspec.Meta(
        pattern=r"^[A-Z][a-z]{2}, \d{2} [A-Z][a-z]{2} \d{4} \d{2}:\d{2}:\d{2} GMT$",
        description="`Fri, 01 Jun 2018 00:17:52 GMT`",
    ),
]
CallerName = Annotated[str, msgspec.Meta(min_length=1, max_length=MAX_LENGTH, pattern=r"^[A-Za-z0-9 ,.'&-]+$")]


class CnamAttributes(Closed):
    approval_datetime: RecordTime | None
    creation_datetime: RecordTime
    is_approved: bool
    rejection_reason: str | None
    value: CallerName


class CnamPreset(Closed, tag_field="type", tag="cnam"):
    id: PresetId
    attributes: CnamAttributes
    links: SelfLink


class CnamDocument(Closed):
    data: CnamPreset


class CnamList(Closed):
    data: list[CnamPreset]
    links: PageLinks


class CnamAssignmentAttributes(Closed):
    date_created: HttpDate


class CnamAssignmentData(Closed):
    """`type` comes last and `id` is a JSON number (null when unassigned), as Flowroute answers."""

    attributes: CnamAssignmentAttributes
    id: Annotated[int, msgspec.Meta(ge=1)] | None
    type: Literal["cnam"]


class CnamAssignment(Closed):
    data: CnamAssignmentData


# The documents the CNAM contract answers with (their parts are components too).
DOCUMENTS = (CnamDocument, CnamList, CnamAssignment)


def _moment(us: int) -> datetime:
    return datetime.fromtimestamp(us / 1_000_000, UTC)


def record_time(us: int) -> str:
    """`2018-06-01 00:09:52.513092+00:00`."""
    return f"{_moment(us):%Y-%m-%d %H:%M:%S.%f}+00:00"


def http_date(us: int) -> str:
    """`Fri, 01 Jun 2018 00:17:52 GMT`."""
    return format_datetime(_moment(us).replace(microsecond=0), usegmt=True)


def preset(row: Row, approval: Approval, now: int, base: str) -> CnamPreset:
    approved, approved_at = approval.state(row, now)
    attributes = CnamAttributes(
        approval_datetime=None if approved_at is None else record_time(approved_at),
        creation_datetime=record_time(row["created_at_us"]),
        is_approved=approved,
        rejection_reason=row["rejection_reason"],
        value=row["value"],
    )
    return CnamPreset(id=str(row["id"]), attributes=attributes, links=SelfLink(f"{base}/v2/cnams/{row['id']}"))


def preset_document(row: Row, approval: Approval, now: int, base: str) -> CnamDocument:
    return CnamDocument(preset(row, approval, now, base))


def presets(rows: list[Row], approval: Approval, now: int, base: str, links: dict[str, str]) -> CnamList:
    return CnamList(data=[preset(row, approval, now, base) for row in rows], links=page_links(links))


def assignment(preset_id: int | None, now: int) -> CnamAssignment:
    """The 202 answer to assigning (or, with no id, unassigning) a preset."""
    attributes = CnamAssignmentAttributes(http_date(now))
    return CnamAssignment(CnamAssignmentData(attributes=attributes, id=preset_id, type="cnam"))
