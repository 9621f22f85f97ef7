"""Time as integer microseconds since the epoch (UTC), and its wire spellings."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from typing import Protocol

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)
_DAY_US = 86_400_000_000


class Clock(Protocol):
    def __call__(self) -> int: ...


def system_clock() -> int:
    return time.time_ns() // 1000


class VirtualClock:
    """A `Clock` that runs `offset_us` ahead of `base` (the sandbox's virtual clock: the deployment's stored
    offset, which the process follows). An offset only grows: time never runs backwards."""

    def __init__(self, base: Clock = system_clock) -> None:
        self._base = base
        self.offset_us = 0

    def __call__(self) -> int:
        return self._base() + self.offset_us

    def follow(self, offset_us: int) -> bool:
        """Take the stored offset; whether the clock moved."""
        if offset_us <= self.offset_us:
            return False
        self.offset_us = offset_us
        return True


def format_timestamp(us: int) -> str:
    """`2017-12-22T01:52:39.39Z`: UTC with exactly two fractional digits, as Flowroute sends.
    By arithmetic and a cache of dates: a page of MDRs formats hundreds of these, and through datetime
    each cost four times as much."""
    days, rest = divmod(us, _DAY_US)
    hours, rest = divmod(rest, 3_600_000_000)
    minutes, rest = divmod(rest, 60_000_000)
    seconds, micro = divmod(rest, 1_000_000)
    return f"{_date_text(days)}T{hours:02d}:{minutes:02d}:{seconds:02d}.{micro // 10_000:02d}Z"


@lru_cache(maxsize=4096)
def _date_text(days_since_epoch: int) -> str:
    return (_EPOCH + timedelta(days=days_since_epoch)).date().isoformat()  # years < 1000 keep 4 digits


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
