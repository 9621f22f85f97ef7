"""Time as integer microseconds since the epoch (UTC), and its wire spellings."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Protocol


class Clock(Protocol):
    def __call__(self) -> int: ...


def system_clock() -> int:
    return time.time_ns() // 1000


def format_timestamp(us: int) -> str:
    """`2017-12-22T01:52:39.39Z`: UTC with exactly two fractional digits, as Flowroute sends."""
    moment = datetime.fromtimestamp(us // 1_000_000, UTC)
    centiseconds = (us % 1_000_000) // 10_000
    return f"{moment:%Y-%m-%dT%H:%M:%S}.{centiseconds:02d}Z"


def format_link_date(us: int) -> str:
    """`2017-12-01T00:00:00+00:00`: how dates are echoed in message-list links."""
    return datetime.fromtimestamp(us // 1_000_000, UTC).strftime("%Y-%m-%dT%H:%M:%S+00:00")


def parse_date(raw: str) -> int:
    """Accepts `YYYY-MM-DD`, naive `YYYY-MM-DDTHH:MM:SS` (taken as UTC), `Z`, offsets and fractions."""
    text = raw.strip().replace(" ", "T", 1) if "T" not in raw and len(raw.strip()) > 10 else raw.strip()
    if text.endswith(("Z", "z")):
        text = text[:-1] + "+00:00"
    moment = datetime.fromisoformat(text)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return int(moment.timestamp()) * 1_000_000 + moment.microsecond
