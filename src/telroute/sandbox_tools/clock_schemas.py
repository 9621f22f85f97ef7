"""The wire shape of the deployment's virtual clock as a Struct, rendered with msgspec and the source of its
OpenAPI components."""

from __future__ import annotations

from typing import Annotated, Literal

import msgspec

from telroute.kit.wire import Closed
from telroute.sandbox_tools.model import format_moment
from telroute.sandbox_tools.schemas import Moment


class SandboxClockAttributes(Closed):
    now: Moment
    real_time: Moment
    offset_seconds: Annotated[float, msgspec.Meta(ge=0)]


class SandboxClock(Closed, tag_field="type", tag="sandbox_clock"):
    id: Literal["deployment"]
    attributes: SandboxClockAttributes


class SandboxClockDocument(Closed):
    data: SandboxClock


def clock_document(real_us: int, offset_us: int) -> SandboxClockDocument:
    """The clock at real time `real_us` moved forward by `offset_us`."""
    attributes = SandboxClockAttributes(
        now=format_moment(real_us + offset_us),
        real_time=format_moment(real_us),
        offset_seconds=offset_us / 1_000_000,
    )
    return SandboxClockDocument(SandboxClock(id="deployment", attributes=attributes))
