"""The worker's wake-up: the API side notifies after it writes a job, the worker waits on it between
claims instead of sleeping out its idle poll. Created once per process in the composition root and
shared by both sides; notifying with no worker waiting (an API-only process) costs nothing."""

from __future__ import annotations

import asyncio
from collections.abc import Callable


class Wakeup:
    def __init__(self) -> None:
        self._event = asyncio.Event()
        self._also: list[Callable[[], None]] = []

    def notify(self) -> None:
        self._event.set()
        for wake in self._also:
            wake()

    def also(self, wake: Callable[[], None]) -> None:
        """Call `wake` at each notification too (a worker in another process: `telroute/worker_process.py`)."""
        self._also.append(wake)

    def clear(self) -> None:
        """Forget earlier notifications: the next `wait` returns only on a new one."""
        self._event.clear()

    async def wait(self) -> None:
        await self._event.wait()
