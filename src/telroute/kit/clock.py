"""Time as integer microseconds since the epoch (UTC), and its wire spellings."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from typing import Protocol

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)


class Clock(Protocol):
    def __call__(self) -> int: ...


def system_clock() -> int:
    return time.time_ns() // 1000


def format_timestamp(us: int) -> str:
    """`2017-12-22T01:52:39.39Z`: UTC with exactly two fractional digits, as Flowroute sends."""
    moment = datetime.fromtimestamp(us // 1_000_000, UTC).replace(tzinfo=None)
    centiseconds = (us % 1_000_000) // 10_000
    return f"{moment.isoformat(timespec='seconds')}.{centiseconds:02d}Z"  # isoformat: years < 1000 keep 4 digits


def format_link_date(us: int) -> str:
    """`2017-12-01T00:00:00+00:00`: how dates are echoed in message-list links."""
    return datetime.fromtimestamp(us // 1_000_000, UTC).isoformat(timespec="seconds")


def parse_date(raw: str) -> int:
    """Accepts `YYYY-MM-DD`, naive `YYYY-MM-DDTHH:MM:SS` (taken as UTC), `Z`, offsets and fractions."""
    text = raw.strip().replace(" ", "T", 1) if "T" not in raw and len(raw.strip()) > 10 else raw.strip()
    if text.endswith(("Z", "z")):
        text = text[:-1] + "+00:00"
    moment = datetime.fromisoformat(text)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    moment = moment.astimezone(UTC)  # OverflowError when UTC falls outside years 1..9999
    return (moment - _EPOCH) // _MICROSECOND  # exact: no float seconds, right before 1970 too
