"""A log line for an event that can happen thousands of times a second: the first occurrence is reported
at once, later ones at most once per interval, each report with how many occurred since the last."""

from __future__ import annotations


class Throttle:
    def __init__(self, interval: float) -> None:
        self.interval = interval
        self._last_report: float | None = None
        self._unreported = 0

    def occurred(self, now: float) -> int | None:
        """Count one occurrence at `now` (a monotonic clock); the number to report, or None to stay quiet."""
        self._unreported += 1
        if self._last_report is not None and now - self._last_report < self.interval:
            return None
        count, self._unreported, self._last_report = self._unreported, 0, now
        return count
