"""The deployment's virtual clock (sandbox profile): an offset stored in the database that every process's
clock (`Deps.clock`, a `VirtualClock`) adds to system time. Advancing it makes receipt delays, callback
retries, idempotency keys, rate limits, fault rule expiry and retention run their course at once.

Each process follows the stored offset (a process that advances it takes the new offset at once). On
PostgreSQL an advance is announced (NOTIFY at commit) and every process reads the offset when it hears of
it, and every `RECHECK_SECONDS` all the same; while it cannot LISTEN it reads every `FOLLOW_SECONDS`. On
SQLite a process reads it when another process has committed to the file since its last look (`PRAGMA
data_version`, checked every `FOLLOW_SECONDS`, in process and cheap). An idle sandbox so reads nothing.
When the offset moves, the process's worker is woken, so that jobs now due run without waiting for the
idle poll."""

from __future__ import annotations

import asyncio

import structlog

from telroute.bootstrap import Deps
from telroute.kit.channel_listener import ChannelListener
from telroute.kit.clock import VirtualClock, system_clock
from telroute.kit.db import Connection, data_version_of
from telroute.sandbox_tools import clock_repository

FOLLOW_SECONDS = 0.1
RECHECK_SECONDS = 5.0
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
    announced = _Announcements(deps)
    data_version = data_version_of(deps.db)
    seen: int | None = None
    try:
        while not stop.is_set():
            await announced.listen_if_due()  # before reading, so that no advance falls between the two
            heard = announced.heard()  # before reading: an advance announced during the read is read again
            version = None if data_version is None else data_version()
            if version is None or version != seen:
                seen = version
                await _refresh_quietly(deps)
            await announced.wait(stop, after=heard)
    finally:
        await announced.close()


async def _refresh_quietly(deps: Deps) -> None:
    try:
        await refresh(deps)
    except Exception as exc:  # the clock keeps its last offset; the next read may succeed
        log.debug("virtual clock not read", error=str(exc))


class _Announcements:
    """PostgreSQL's announced advances (a LISTEN, tried again now and then while it is down); none on SQLite."""

    def __init__(self, deps: Deps) -> None:
        self._deps = deps
        # A lost LISTEN fires `heard` too: the offset is read at once, then every FOLLOW_SECONDS until it is back.
        self._listener = ChannelListener(clock_repository.CHANGES_CHANNEL)

    async def listen_if_due(self) -> None:
        await self._listener.keep_up(self._deps.db)

    def heard(self) -> int:
        """How many announcements have been heard: pass to `wait`."""
        return self._listener.heard.generation

    async def wait(self, stop: asyncio.Event, *, after: int) -> None:
        """Until an advance is announced (after `heard()` said `after`), `stop` is set, or it is time to read
        again all the same."""
        pause = RECHECK_SECONDS if self._listener.up else FOLLOW_SECONDS
        stopped = asyncio.ensure_future(stop.wait())
        heard = asyncio.ensure_future(self._listener.heard.wait_after(after, pause))
        try:
            await asyncio.wait({stopped, heard}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            stopped.cancel()
            heard.cancel()

    async def close(self) -> None:
        await self._listener.close()
