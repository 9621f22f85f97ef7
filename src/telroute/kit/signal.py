"""A process-local signal: waiters sleep until it fires (or a timeout), with no polling.

The database fires `committed` after each commit of this process, so a long poll can re-check at once
when something may have changed, and fall back to a slow re-check for writes of other processes."""

from __future__ import annotations

import asyncio
import contextlib


class Signal:
    def __init__(self) -> None:
        self._event = asyncio.Event()
        self.generation = 0

    def fire(self) -> None:
        self.generation += 1
        event, self._event = self._event, asyncio.Event()
        event.set()

    async def wait_after(self, generation: int, timeout: float) -> None:
        """Return once the signal fired after `generation` was read, or after `timeout` seconds."""
        if self.generation != generation:
            return
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._event.wait(), timeout)
