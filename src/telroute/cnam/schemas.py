"""The wire shapes of CNAM presets, as the SDK READMEs show them (times as Flowroute spells them)."""

from __future__ import annotations

from datetime import UTC, datetime
from email.utils import format_datetime
from typing import Any

from telroute.cnam.model import Approval
from telroute.kit.db import Row


def _moment(us: int) -> datetime:
    return datetime.fromtimestamp(us / 1_000_000, UTC)


def record_time(us: int) -> str:
    """`2018-06-01 00:09:52.513092+00:00`."""
    return f"{_moment(us):%Y-%m-%d %H:%M:%S.%f}+00:00"


def http_date(us: int) -> str:
    """`Fri, 01 Jun 2018 00:17:52 GMT`."""
    return format_datetime(_moment(us).replace(microsecond=0), usegmt=True)


def preset(row: Row, approval: Approval, now: int, base: str) -> dict[str, Any]:
    approved, approved_at = approval.state(row, now)
    return {
        "type": "cnam",
        "id": str(row["id"]),
        "attributes": {
            "approval_datetime": None if approved_at is None else record_time(approved_at),
            "creation_datetime": record_time(row["created_at_us"]),
            "is_approved": approved,
            "rejection_reason": row["rejection_reason"],
            "value": row["value"],
        },
        "links": {"self": f"{base}/v2/cnams/{row['id']}"},
    }


def assignment(preset_id: int | None, now: int) -> dict[str, Any]:
    """The 202 answer to assigning (or, with no id, unassigning) a preset: the id is a JSON number."""
    return {"data": {"attributes": {"date_created": http_date(now)}, "id": preset_id, "type": "cnam"}}
