"""The worker's wake-up: the API side notifies after it writes a job, the worker waits on it between
claims instead of sleeping out its idle poll. Created once per process in the composition root and
shared by both sides; notifying with no worker waiting (an API-only process) costs nothing."""

from __future__ import annotations

import asyncio


class Wakeup:
    def __init__(self) -> None:
        self._event = asyncio.Event()

    def notify(self) -> None:
        self._event.set()

    def clear(self) -> None:
        """Forget earlier notifications: the next `wait` returns only on a new one."""
        self._event.clear()

    async def wait(self) -> None:
        await self._event.wait()
