"""The console log line (`--log-format console`, the default): structlog's `ConsoleRenderer(colors=False)`,
written out directly.

ConsoleRenderer builds each column through a formatter object and a StringIO: 16 µs of a 26 µs log call,
and a message logs three lines on its way (accepted, submitted, status). This renderer makes the same line
in a few µs; a line with a stack or an exception goes to ConsoleRenderer itself.
`tests/unit/test_console_lines.py` holds the two equal over generated events."""

from __future__ import annotations

from typing import Any

from structlog.dev import ConsoleRenderer, plain_traceback
from structlog.typing import EventDict, WrappedLogger

_LEVEL_WIDTH = len("exception")  # the longest level name ConsoleRenderer knows
_EVENT_WIDTH = 30
_NEEDS_QUOTES = frozenset(" \t=\r\n\"'")
_LEADING = ("timestamp", "level", "event", "logger", "logger_name")
_TO_FULL_RENDERER = ("stack", "exception", "exc_info")


def _value(value: Any) -> str:
    if isinstance(value, str) and _NEEDS_QUOTES.isdisjoint(value):
        return value
    return repr(value)


class ConsoleLines:
    def __init__(self) -> None:
        self._full = ConsoleRenderer(colors=False, exception_formatter=plain_traceback)

    def __call__(self, logger: WrappedLogger, name: str, event_dict: EventDict) -> str:
        if any(key in event_dict for key in _TO_FULL_RENDERER):
            return str(self._full(logger, name, event_dict))
        parts = []
        if "timestamp" in event_dict:
            parts.append(str(event_dict.pop("timestamp")))
        if "level" in event_dict:
            parts.append(f"[{str(event_dict.pop('level')).ljust(_LEVEL_WIDTH)}]")
        if "event" in event_dict:
            parts.append(str(event_dict.pop("event")).ljust(_EVENT_WIDTH))
        for key in _LEADING[3:]:
            if key in event_dict:
                parts.append(f"[{event_dict.pop(key)}]")
        parts.extend(f"{key}={_value(event_dict[key])}" for key in sorted(event_dict))
        return " ".join(part for part in parts if part).rstrip(" ")
