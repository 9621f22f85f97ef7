"""The background half of a process: the job worker and the carrier links it drives."""

from __future__ import annotations

import asyncio
import contextlib

from telroute.bootstrap import Deps
from telroute.kit.worker import Handler, Worker


def job_handlers(deps: Deps) -> dict[str, Handler]:
    return {}


class Runtime:
    def __init__(self, deps: Deps) -> None:
        self.deps = deps
        self.worker: Worker | None = None
        self._stop = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    async def start(self, *, worker: bool) -> None:
        if not worker:
            return
        settings = self.deps.settings
        self.worker = Worker(
            self.deps.db,
            self.deps.clock,
            job_handlers(self.deps),
            lease_seconds=settings.job_lease_seconds,
            concurrency=settings.worker_batch,
        )
        self.deps.wake_worker = self.worker.wake
        self._task = asyncio.create_task(self.worker.run(self._stop))

    async def stop(self) -> None:
        self._stop.set()
        if self._task is not None:
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
