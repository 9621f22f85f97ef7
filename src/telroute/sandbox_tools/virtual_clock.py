"""The deployment's virtual clock (sandbox profile): an offset stored in the database that every process's
clock (`Deps.clock`, a `VirtualClock`) adds to system time. Advancing it makes receipt delays, callback
retries, idempotency keys, rate limits, fault rule expiry and retention run their course at once.

Each process follows the stored offset: re-read every `FOLLOW_SECONDS` (one tiny indexed read; a process
that advances it takes the new offset at once). When the offset moves, the process's worker is woken, so
that jobs now due run without waiting for the idle poll."""

from __future__ import annotations

import asyncio
import contextlib

import structlog

from telroute.bootstrap import Deps
from telroute.kit.clock import VirtualClock, system_clock
from telroute.kit.db import Connection
from telroute.sandbox_tools import clock_repository

FOLLOW_SECONDS = 0.1
MAX_ADVANCE = 10 * 365 * 24 * 3600.0
log = structlog.get_logger("telroute.sandbox")


def virtual(deps: Deps) -> VirtualClock:
    """The process's clock, which `bootstrap.build` makes virtual in the sandbox profile."""
    clock = deps.clock
    if not isinstance(clock, VirtualClock):
        raise TypeError("the virtual clock exists only in the sandbox profile")
    return clock


async def stored_offset(connection: Connection) -> int:
    return await clock_repository.offset_us(connection)


async def advance(connection: Connection, seconds: float) -> int:
    """Move the deployment's clock forward by `seconds` (0 to MAX_ADVANCE, checked by the caller); the new
    offset in microseconds."""
    await clock_repository.add_offset(connection, round(seconds * 1_000_000), now=system_clock())
    return await stored_offset(connection)


def moved(deps: Deps, offset_us: int) -> None:
    """This process's clock takes the offset; its worker wakes if the clock moved."""
    if virtual(deps).follow(offset_us):
        deps.wakeup.notify()
        log.info("virtual clock advanced", offset_seconds=offset_us / 1_000_000)


async def refresh(deps: Deps) -> None:
    async with deps.db.snapshot() as connection:
        offset = await stored_offset(connection)
    moved(deps, offset)


async def follow(deps: Deps, stop: asyncio.Event) -> None:
    """Follow the stored offset until `stop`; a failed read (the database away) is tried again next time."""
    while not stop.is_set():
        try:
            await refresh(deps)
        except Exception as exc:  # the clock keeps its last offset; the next read may succeed
            log.debug("virtual clock not read", error=str(exc))
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), FOLLOW_SECONDS)
