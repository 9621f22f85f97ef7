"""The worker loop over a real jobs table: handlers that succeed, finish their own job, ask to run
later, give up, crash or hang; leases that lapse; stopping with work in flight."""

from __future__ import annotations

import asyncio
import inspect
import itertools
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from contextlib import asynccontextmanager
from typing import Any

from telroute.kit import jobs
from telroute.kit.clock import system_clock
from telroute.kit.db import Database, sql
from telroute.kit.jobs import Job
from telroute.kit.wakeup import Wakeup
from telroute.kit.worker import GiveUp, Handler, Postpone, RetryLater, Worker


async def enqueue(database: Database, kind: str, payload: dict[str, Any] | None = None) -> None:
    async with database.transaction() as connection:
        await jobs.enqueue(connection, kind, payload or {}, now=system_clock())


@asynccontextmanager
async def running(worker: Worker, *, grace: float = 5.0) -> AsyncIterator[asyncio.Event]:
    stop = asyncio.Event()
    task = asyncio.create_task(worker.run(stop, grace=grace))
    try:
        yield stop
    finally:
        stop.set()
        await asyncio.wait_for(task, timeout=grace + 5)


async def eventually(probe: Callable[[], bool | Awaitable[bool]], *, timeout: float = 10.0, what: str = "") -> None:
    """Poll `probe` (plain or async) until it is true; fail at the deadline."""

    async def check() -> bool:
        value = probe()
        return await value if inspect.isawaitable(value) else value

    deadline = time.monotonic() + timeout
    while not await check():
        if time.monotonic() > deadline:
            raise AssertionError(f"not within {timeout} s: {what}")
        await asyncio.sleep(0.01)


async def pending(database: Database) -> int:
    return int(await database.fetchval(sql("SELECT COUNT(*) FROM jobs")))


async def failed(database: Database) -> list[dict[str, Any]]:
    rows = await database.fetch(sql("SELECT kind, attempts, last_error FROM failed_jobs ORDER BY id"))
    return [dict(row) for row in rows]


def worker_of(database: Database, handlers: Mapping[str, Handler], **options: Any) -> Worker:
    options.setdefault("idle_poll", 0.01)
    return Worker(database, system_clock, handlers, **options)


async def test_a_successful_handler_finishes_its_job(database: Database) -> None:
    seen: list[tuple[str, dict[str, Any], int]] = []

    async def handle(job: Job) -> None:
        seen.append((job.kind, job.payload, job.attempts))

    worker = worker_of(database, {"greet": handle})
    async with running(worker):
        await enqueue(database, "greet", {"name": "ada"})
        await enqueue(database, "greet", {"name": "bob"})
        await eventually(lambda: worker.processed == 2, what="two jobs processed")
        await eventually(lambda: _is_empty(database), what="an empty queue")
    assert sorted(seen, key=lambda item: str(item[1])) == [
        ("greet", {"name": "ada"}, 1),
        ("greet", {"name": "bob"}, 1),
    ]
    assert await failed(database) == []


async def test_a_handler_that_finishes_its_own_job_returns_true(database: Database) -> None:
    async def handle(job: Job) -> bool:
        async with database.transaction() as connection:
            await connection.execute(
                sql(
                    "INSERT INTO failed_jobs (kind, payload, attempts, last_error, "
                    "created_at_us, failed_at_us) VALUES ('marker', '{}', 0, NULL, 0, 0)"
                )
            )
            await jobs.finish(connection, job)
        return True

    worker = worker_of(database, {"self": handle})
    async with running(worker):
        await enqueue(database, "self")
        await eventually(lambda: worker.processed == 1, what="the job processed")
    assert await pending(database) == 0
    assert await failed(database) == [{"kind": "marker", "attempts": 0, "last_error": None}]


async def test_retry_later_runs_the_job_again_after_its_delay(database: Database) -> None:
    attempts: list[tuple[int, float]] = []

    async def handle(job: Job) -> None:
        attempts.append((job.attempts, time.monotonic()))
        if job.attempts < 3:
            raise RetryLater("not yet", delay=0.2)

    worker = worker_of(database, {"flaky": handle})
    async with running(worker):
        await enqueue(database, "flaky")
        await eventually(lambda: worker.processed == 1, what="the third attempt succeeding")
    assert [attempt for attempt, _ in attempts] == [1, 2, 3]
    gaps = [later - earlier for (_, earlier), (_, later) in itertools.pairwise(attempts)]
    assert all(gap >= 0.19 for gap in gaps), gaps
    assert await pending(database) == 0
    assert await failed(database) == []


async def test_postpone_runs_the_job_again_later_without_counting_an_attempt(database: Database) -> None:
    seen: list[tuple[int, float]] = []

    async def handle(job: Job) -> None:
        seen.append((job.attempts, time.monotonic()))
        if len(seen) < 4:
            raise Postpone("busy", delay=0.1)

    worker = worker_of(database, {"waits": handle}, max_attempts=2)
    async with running(worker):
        await enqueue(database, "waits")
        await eventually(lambda: worker.processed == 1, what="the job running after three postponements")
    assert [attempts for attempts, _ in seen] == [1, 1, 1, 1]  # and max_attempts=2 never reached
    gaps = [later - earlier for (_, earlier), (_, later) in itertools.pairwise(seen)]
    assert all(gap >= 0.09 for gap in gaps), gaps
    assert await pending(database) == 0
    assert await failed(database) == []


async def test_retry_later_stops_at_max_attempts_and_records_the_failure(database: Database) -> None:
    async def handle(job: Job) -> None:
        raise RetryLater(f"still down (try {job.attempts})", delay=0.0)

    worker = worker_of(database, {"down": handle}, max_attempts=4)
    async with running(worker):
        await enqueue(database, "down")
        await eventually(lambda: _is_empty(database), what="the job leaving the queue")
    assert await failed(database) == [{"kind": "down", "attempts": 4, "last_error": "still down (try 4)"}]


async def test_give_up_fails_the_job_at_once(database: Database) -> None:
    calls: list[int] = []

    async def handle(job: Job) -> None:
        calls.append(job.attempts)
        raise GiveUp("the number does not exist")

    worker = worker_of(database, {"hopeless": handle})
    async with running(worker):
        await enqueue(database, "hopeless")
        await eventually(lambda: _is_empty(database), what="the job leaving the queue")
    assert calls == [1]
    assert await failed(database) == [{"kind": "hopeless", "attempts": 1, "last_error": "the number does not exist"}]


async def test_a_job_nobody_handles_is_failed(database: Database) -> None:
    worker = worker_of(database, {})
    async with running(worker):
        await enqueue(database, "mystery")
        await eventually(lambda: _is_empty(database), what="the job leaving the queue")
    assert await failed(database) == [
        {"kind": "mystery", "attempts": 1, "last_error": "no handler for job kind 'mystery'"}
    ]


async def test_an_unexpected_error_is_retried_with_backoff(database: Database) -> None:
    async def handle(job: Job) -> None:
        raise ValueError("boom")

    worker = worker_of(database, {"buggy": handle})
    async with running(worker):
        before = system_clock()
        await enqueue(database, "buggy")

        async def retried() -> bool:
            row = await database.fetchrow(sql("SELECT attempts, run_at_us, locked_by, last_error FROM jobs"))
            return row is not None and row["last_error"] is not None

        await eventually(retried, what="the error recorded")
    row = await database.fetchrow(sql("SELECT attempts, run_at_us, locked_by, last_error FROM jobs"))
    assert row is not None
    assert (row["attempts"], row["locked_by"], row["last_error"]) == (1, None, "ValueError: boom")
    assert before + 1_000_000 <= row["run_at_us"] <= system_clock() + 1_000_000  # backoff_us(1): one second
    assert await failed(database) == []


async def test_a_job_cut_short_by_a_database_outage_runs_again_soon_and_is_never_failed_for_it(
    database: Database,
) -> None:
    """Refused connections are what a handler meets while PostgreSQL restarts: retried after a second, and
    not counted towards `max_attempts` (a long outage must not turn accepted messages into failed jobs)."""
    calls: list[int] = []

    async def handle(job: Job) -> None:
        calls.append(job.attempts)
        if job.attempts <= 2:
            raise ConnectionRefusedError(111, "Connect call failed")

    worker = worker_of(database, {"outage": handle}, max_attempts=1)
    async with running(worker):
        await enqueue(database, "outage")
        await eventually(lambda: _is_empty(database), timeout=10, what="the job done after the outage")
    assert calls == [1, 2, 3]
    assert await failed(database) == []


async def test_stop_cancels_a_hung_job_after_the_grace_and_releases_it_to_another_worker_at_once(
    database: Database,
) -> None:
    hung = asyncio.Event()
    cancelled: list[int] = []
    finished: list[tuple[int, float]] = []

    async def hangs(job: Job) -> None:
        hung.set()
        try:
            await asyncio.sleep(3600)
        except asyncio.CancelledError:
            cancelled.append(job.attempts)
            raise

    async def works(job: Job) -> None:
        finished.append((job.attempts, time.monotonic()))

    lease = 30.0
    stuck = worker_of(database, {"slow": hangs}, lease_seconds=lease)
    async with running(stuck, grace=0.2) as stop:
        await enqueue(database, "slow")
        await asyncio.wait_for(hung.wait(), timeout=10)
        claimed_at = time.monotonic()
        stop.set()
    stopped_in = time.monotonic() - claimed_at
    assert cancelled == [1]
    assert stopped_in < 1.0, "the hung handler held up the stop beyond its grace"

    rescuer = worker_of(database, {"slow": works}, lease_seconds=lease)
    async with running(rescuer):
        await eventually(lambda: bool(finished), what="the rescuer running the job")
    [(attempt, at)] = finished
    assert attempt == 2
    assert at - claimed_at < 10  # released on stop: nobody waits out the 30 s lease
    assert await pending(database) == 0
    assert await failed(database) == []


async def test_no_more_than_concurrency_jobs_run_at_once(database: Database) -> None:
    running_now = 0
    peak = 0
    release = asyncio.Event()

    async def handle(job: Job) -> None:
        nonlocal running_now, peak
        running_now += 1
        peak = max(peak, running_now)
        await release.wait()
        running_now -= 1

    worker = worker_of(database, {"busy": handle}, concurrency=2)
    async with running(worker):
        for _ in range(5):
            await enqueue(database, "busy")
        await eventually(lambda: running_now == 2, what="two jobs running")
        await asyncio.sleep(0.2)  # time for the worker to (wrongly) claim more
        assert peak == 2
        release.set()
        await eventually(lambda: worker.processed == 5, what="all five processed")
    assert peak == 2


async def test_wake_runs_new_work_without_waiting_for_the_idle_poll(database: Database) -> None:
    ran = asyncio.Event()

    async def handle(job: Job) -> None:
        ran.set()

    worker = worker_of(database, {"now": handle}, idle_poll=30.0)
    async with running(worker):
        await asyncio.sleep(0.1)  # the worker is idle, waiting up to 30 s
        await enqueue(database, "now")
        worker.wake()
        await asyncio.wait_for(ran.wait(), timeout=5)


async def test_a_notify_on_the_shared_wakeup_runs_new_work_without_waiting_for_the_idle_poll(
    database: Database,
) -> None:
    ran = asyncio.Event()

    async def handle(job: Job) -> None:
        ran.set()

    wakeup = Wakeup()  # the composition root's: the API side notifies, the worker waits on it
    worker = worker_of(database, {"now": handle}, idle_poll=30.0, wakeup=wakeup)
    async with running(worker):
        await asyncio.sleep(0.1)
        await enqueue(database, "now")
        wakeup.notify()
        await asyncio.wait_for(ran.wait(), timeout=5)


async def _is_empty(database: Database) -> bool:
    return await pending(database) == 0
