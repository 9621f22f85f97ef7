"""The console log line is exactly structlog's ConsoleRenderer(colors=False) line, over generated events."""

from __future__ import annotations

import sys
from typing import Any

from hypothesis import given
from hypothesis import strategies as st
from structlog.dev import ConsoleRenderer, plain_traceback

from telroute.kit.console_lines import ConsoleLines

_values = st.one_of(
    st.text(),
    st.sampled_from(["plain", "with space", "a=b", "quote's", 'dq"', "tab\there", ""]),
    st.integers(),
    st.floats(allow_nan=False),
    st.booleans(),
    st.none(),
    st.lists(st.integers(), max_size=3),
)
_keys = st.text(alphabet="abcdefghij_", min_size=1, max_size=8)
_levels = st.sampled_from(["debug", "info", "warning", "error", "critical", "exception"])
_leading = st.fixed_dictionaries(
    {},
    optional={
        "timestamp": st.sampled_from(["2026-12-07T07:04:34.929281Z", ""]),
        "level": _levels,
        "event": st.one_of(st.text(max_size=40), st.sampled_from(["message accepted", "x" * 35])),
        "logger": st.text(max_size=10),
        "logger_name": st.text(max_size=10),
    },
)


def _structlog_line(event: dict[str, Any]) -> str:
    return str(ConsoleRenderer(colors=False, exception_formatter=plain_traceback)(None, "info", dict(event)))


@given(_leading, st.dictionaries(_keys, _values, max_size=6))
def test_every_line_is_consolerenderers_line(leading: dict[str, Any], rest: dict[str, Any]) -> None:
    event = {**rest, **leading}
    assert ConsoleLines()(None, "info", dict(event)) == _structlog_line(event)


def test_a_line_with_an_exception_keeps_its_traceback() -> None:
    try:
        raise ValueError("boom")
    except ValueError:
        event = {"event": "job failed", "level": "error", "exc_info": sys.exc_info()}
        line = ConsoleLines()(None, "error", dict(event))
    assert line == _structlog_line(event)
    assert "Traceback" in line and "ValueError: boom" in line
