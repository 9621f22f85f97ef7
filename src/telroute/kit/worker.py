"""The worker loop: claim due jobs, run their handlers concurrently, retry or record failures."""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
from collections.abc import Awaitable, Callable, Mapping

import structlog

from telroute.kit import jobs
from telroute.kit.clock import Clock
from telroute.kit.db import Database, is_unavailable
from telroute.kit.jobs import Job
from telroute.kit.wakeup import Wakeup

Handler = Callable[[Job], Awaitable[bool | None]]
"""A job handler; it returns True when it finished the job itself, inside its own transaction."""
log = structlog.get_logger("telroute.worker")
_OUTAGE_RETRY = 1.0  # seconds before a job cut short by a database outage runs again
_OUTAGE_POLL_MAX = 1.0  # the longest pause between claims while claiming fails
_OUTAGE_LOG_EVERY = 30  # failed claims between two warnings (the first is always logged)


class RetryLater(Exception):
    """Raised by a handler: run this job again after `delay` seconds."""

    def __init__(self, reason: str, *, delay: float) -> None:
        super().__init__(reason)
        self.delay = delay


class Postpone(Exception):
    """Raised by a handler that did not try the job (a resource it needs is busy): run it again after
    `delay` seconds without counting this claim as an attempt."""

    def __init__(self, reason: str, *, delay: float) -> None:
        super().__init__(reason)
        self.delay = delay


class GiveUp(Exception):
    """Raised by a handler: this job can never succeed; record it as failed."""


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


class Worker:
    def __init__(
        self,
        database: Database,
        clock: Clock,
        handlers: Mapping[str, Handler],
        *,
        lease_seconds: float = 60.0,
        concurrency: int = 200,
        max_attempts: int = 25,
        idle_poll: float = 0.05,
        wakeup: Wakeup | None = None,
    ) -> None:
        self.name = worker_name()
        self._database = database
        self._clock = clock
        self._handlers = handlers
        self._lease_us = int(lease_seconds * 1_000_000)
        self._concurrency = concurrency
        self._max_attempts = max_attempts
        self._idle_poll = idle_poll
        self._wakeup = wakeup or Wakeup()
        self._tasks: set[asyncio.Task[None]] = set()
        self.processed = 0
        self._failed_claims = 0  # in a row

    def wake(self) -> None:
        self._wakeup.notify()

    async def run(self, stop: asyncio.Event, *, grace: float = 5.0) -> None:
        """Claim and run jobs until `stop`; then give running jobs `grace` seconds and cancel the rest.

        A cancelled job keeps its lease and runs again elsewhere once it lapses. The grace is short
        because the process must exit within 10 s of SIGTERM and the HTTP side drains first."""
        await self._reclaim_from_dead_neighbours()
        while not stop.is_set():
            claimed = await self._claim_some()
            if not claimed:
                await self._idle(stop, self._pause())
        if self._tasks:
            await asyncio.wait(self._tasks, timeout=grace)
        unfinished = list(self._tasks)
        for task in unfinished:
            task.cancel()
        await asyncio.gather(*unfinished, return_exceptions=True)
        with contextlib.suppress(Exception):
            await jobs.release_claims(self._database, self.name, now=self._clock())

    async def _reclaim_from_dead_neighbours(self) -> None:
        """Jobs claimed by a process of this host that no longer exists need not wait out their lease."""
        host = socket.gethostname()
        try:
            for claimant in await jobs.claimants_on_host(self._database, host):
                pid = claimant.rsplit(":", 1)[-1]
                if claimant != self.name and pid.isdigit() and not _alive(int(pid)):
                    released = await jobs.release_claims(self._database, claimant, now=self._clock())
                    log.info("reclaimed jobs of a dead worker", worker=claimant, jobs=released)
        except Exception as exc:
            log.warning("could not reclaim jobs of dead workers", error=str(exc))

    async def _claim_some(self) -> int:
        room = self._concurrency - len(self._tasks)
        if room <= 0:
            return 0
        try:
            claimed = await jobs.claim(
                self._database, self.name, now=self._clock(), lease_us=self._lease_us, limit=room
            )
        except Exception as exc:  # the database is briefly unavailable: try again soon
            self._failed_claims += 1
            if self._failed_claims % _OUTAGE_LOG_EVERY == 1:
                log.warning("claim failed", error=str(exc), failures_in_a_row=self._failed_claims)
            return 0
        if self._failed_claims:
            log.info("claims succeed again", failures_in_a_row=self._failed_claims)
            self._failed_claims = 0
        for job in claimed:
            task = asyncio.create_task(self._run_one(job))
            self._tasks.add(task)
            task.add_done_callback(self._done)
        return len(claimed)

    def _done(self, task: asyncio.Task[None]) -> None:
        self._tasks.discard(task)
        self._wakeup.notify()

    def _pause(self) -> float:
        """The idle poll; while claims fail (the database is away), doubling up to `_OUTAGE_POLL_MAX`."""
        if not self._failed_claims:
            return self._idle_poll
        return min(self._idle_poll * 2.0 ** min(self._failed_claims, 16), max(_OUTAGE_POLL_MAX, self._idle_poll))

    async def _idle(self, stop: asyncio.Event, pause: float) -> None:
        self._wakeup.clear()
        stopping = asyncio.create_task(stop.wait())
        waking = asyncio.create_task(self._wakeup.wait())
        await asyncio.wait({stopping, waking}, timeout=pause, return_when=asyncio.FIRST_COMPLETED)
        for task in (stopping, waking):
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def _run_one(self, job: Job) -> None:
        handler = self._handlers.get(job.kind)
        try:
            if handler is None:
                raise GiveUp(f"no handler for job kind {job.kind!r}")
            if not await handler(job):
                await self._settle(job, None, None)
            self.processed += 1
        except RetryLater as exc:
            await self._settle(job, str(exc), exc.delay)
        except Postpone as exc:
            await self._postpone(job, str(exc), exc.delay)
        except GiveUp as exc:
            await self._settle(job, str(exc), -1.0)
        except Exception as exc:
            if is_unavailable(exc):
                log.warning("job interrupted: the database is unavailable", job_id=job.id, error=str(exc))
                await self._settle(job, f"database unavailable: {exc}", _OUTAGE_RETRY, outage=True)
                return
            log.exception("job failed", job_id=job.id, kind=job.kind, attempts=job.attempts)
            await self._settle(job, f"{type(exc).__name__}: {exc}", jobs.backoff_us(job.attempts) / 1e6)

    async def _postpone(self, job: Job, reason: str, delay: float) -> None:
        try:
            async with self._database.alone() as connection:
                await jobs.postpone(connection, job, run_at=self._clock() + int(delay * 1_000_000), reason=reason)
        except Exception as exc:
            log.warning("could not postpone job", job_id=job.id, error=str(exc))

    async def _settle(self, job: Job, error: str | None, delay: float | None, *, outage: bool = False) -> None:
        """Finish, retry or fail the job. While the database is unavailable this tries again for a third of
        the lease, so that the job need not wait for its lease to lapse; after that the lease lapsing is
        fine: the job reruns."""
        deadline = asyncio.get_running_loop().time() + self._lease_us / 3e6
        pause = 0.1
        while True:
            try:
                await self._record_outcome(job, error, delay, outage=outage)
                return
            except Exception as exc:
                if not is_unavailable(exc) or asyncio.get_running_loop().time() + pause > deadline:
                    log.warning("could not settle job", job_id=job.id, error=str(exc))
                    return
            await asyncio.sleep(pause)
            pause = min(pause * 2, 2.0)

    async def _record_outcome(self, job: Job, error: str | None, delay: float | None, *, outage: bool) -> None:
        """An outage is no fault of the job's: it does not count towards giving up on it."""
        now = self._clock()
        out_of_attempts = job.attempts >= self._max_attempts and not outage
        if error is None:
            async with self._database.alone() as connection:
                await jobs.finish(connection, job)
        elif delay is None or delay < 0 or out_of_attempts:
            async with self._database.transaction() as connection:  # two statements
                await jobs.fail(connection, job, now=now, error=error)
        else:
            async with self._database.alone() as connection:
                await jobs.retry(connection, job, run_at=now + int(delay * 1_000_000), error=error)
