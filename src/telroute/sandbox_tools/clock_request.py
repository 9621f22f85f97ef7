"""The body of `POST /sandbox/clock/advance`, `{"seconds": N}` (flat or JSON:API attributes), as an input
Struct: the OpenAPI request component `SandboxClockAdvance`."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Annotated, Any

import msgspec

from telroute.errors import Unprocessable
from telroute.kit.inputs import typed
from telroute.sandbox_tools.virtual_clock import MAX_ADVANCE


class ClockAdvance(msgspec.Struct):
    seconds: Annotated[float, msgspec.Meta(ge=0, le=MAX_ADVANCE, description="Seconds to move the clock forward.")]


def seconds_of(attributes: Mapping[str, Any], pointer: str) -> float:
    """How far to move the clock; when `ClockAdvance` refuses it, the 422 of `_seconds_rules`."""
    return typed(attributes, ClockAdvance, pointer, rules=lambda raw: _seconds_rules(raw.seconds, pointer)).seconds


def _seconds_rules(raw: object, pointer: str) -> None:
    """A number from 0 to MAX_ADVANCE (time never runs backwards)."""
    where = f"{pointer}/seconds"
    # An int is finite however long: math.isfinite would overflow converting it to a float.
    if isinstance(raw, bool) or not isinstance(raw, int | float) or (isinstance(raw, float) and not math.isfinite(raw)):
        raise Unprocessable("seconds must be a number of seconds to move the clock forward", pointer=where)
    if raw < 0:
        raise Unprocessable("the clock only moves forward: seconds must not be negative", pointer=where)
    if raw > MAX_ADVANCE:
        raise Unprocessable(f"seconds must be at most {MAX_ADVANCE:g}", pointer=where)
