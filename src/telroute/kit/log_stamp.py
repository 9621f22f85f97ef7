"""The time of a log line: structlog's `TimeStamper(fmt="iso", utc=True)` text, made with less work.

The date and time to the second are formatted once a second; a line adds its microseconds. Like
`datetime.isoformat`, a time on the second exactly has no fraction."""

from __future__ import annotations

import datetime
import time

from structlog.typing import EventDict, WrappedLogger


def iso_utc(now_us: int, second_text: str) -> str:
    """`now_us` (microseconds since the epoch) as ISO 8601 in UTC; `second_text` is its second's text."""
    micro = now_us % 1_000_000
    return f"{second_text}.{micro:06d}Z" if micro else f"{second_text}Z"


def second_text(second: int) -> str:
    return datetime.datetime.fromtimestamp(second, datetime.UTC).strftime("%Y-%m-%dT%H:%M:%S")


class UtcStamper:
    """A structlog processor adding `timestamp`."""

    def __init__(self) -> None:
        self._second: tuple[int, str] = (-1, "")  # read and replaced whole: threads may share the stamper

    def __call__(self, logger: WrappedLogger, name: str, event_dict: EventDict) -> EventDict:
        now_us = time.time_ns() // 1000
        second = now_us // 1_000_000
        cached = self._second
        if cached[0] != second:
            cached = self._second = (second, second_text(second))
        event_dict["timestamp"] = iso_utc(now_us, cached[1])
        return event_dict
