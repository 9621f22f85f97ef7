"""Structured logs: key=value lines for people, or one JSON object per line (`--log-format json`)."""

from __future__ import annotations

import logging
import sys

import structlog

from telroute.kit.console_lines import ConsoleLines
from telroute.kit.log_stamp import UtcStamper
from telroute.kit.log_writer import TurnWriter


def configure(log_format: str = "console", level_name: str = "info") -> None:
    level = logging.getLevelNamesMapping().get(level_name.upper(), logging.INFO)
    renderer: structlog.typing.Processor = (
        structlog.processors.JSONRenderer() if log_format == "json" else ConsoleLines()
    )
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            UtcStamper(),
            structlog.processors.format_exc_info if log_format == "json" else structlog.processors.StackInfoRenderer(),
            renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(level),
        logger_factory=TurnWriter(sys.stderr),
        cache_logger_on_first_use=True,
    )
    logging.basicConfig(stream=sys.stderr, level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
