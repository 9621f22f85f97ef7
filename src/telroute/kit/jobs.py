"""The job queue: a table in the same database as the data (a transactional outbox).

Jobs are enqueued in the caller's transaction, so a job exists exactly when the change that
needs it was committed. A claim moves `run_at_us` forward by the lease: a claimed job is simply
not due until the lease lapses, and a job whose worker died becomes due again by itself.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Mapping, Sequence
from contextlib import asynccontextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from functools import cache
from typing import Any

from telroute.kit.db import Connection, Database, Pair, Query, sql


@dataclass(frozen=True, slots=True)
class Job:
    id: int
    kind: str
    payload: dict[str, Any]
    attempts: int
    created_at_us: int


_ENQUEUE = sql(
    "INSERT INTO jobs (kind, payload, run_at_us, attempts, created_at_us) VALUES (:kind, :payload, :run_at, 0, :now)"
)


# A job of kind `:job_kind` whose payload names one new row, written by the statement that writes the row
# (`kit/db.Chain`): for SQLite the Chain's `last` statement, the row's id as `:chained`; for PostgreSQL a
# CTE enqueuing one job per row that the CTE `source` returns.
def enqueue_chained(key: str) -> Query:
    return sql(
        "INSERT INTO jobs (kind, payload, run_at_us, attempts, created_at_us) "
        f"VALUES (:job_kind, json_object('{key}', :chained), :now, 0, :now)"
    )


def enqueue_cte(source: str, key: str) -> str:
    return (
        "enqueued AS (INSERT INTO jobs (kind, payload, run_at_us, attempts, created_at_us) "
        f"SELECT :job_kind, CAST(json_build_object('{key}', id) AS TEXT), :now, 0, :now FROM {source})"
    )


_CLAIM = sql(
    """UPDATE jobs SET run_at_us = :until, locked_by = :worker, attempts = attempts + 1
       WHERE id IN (SELECT id FROM jobs WHERE run_at_us <= :now ORDER BY run_at_us, id LIMIT :limit)
       RETURNING id, kind, payload, attempts, created_at_us""",
    postgres="""UPDATE jobs SET run_at_us = :until, locked_by = :worker, attempts = attempts + 1
       WHERE id IN (SELECT id FROM jobs WHERE run_at_us <= :now ORDER BY run_at_us, id LIMIT :limit
                    FOR UPDATE SKIP LOCKED)
       RETURNING id, kind, payload, attempts, created_at_us""",
)
# A job's row is matched by id and kind: a finished job's row may live on as its successor (`finishing`),
# always of another kind, which a worker still running the old job after its lease lapsed must not touch.
_FINISH = sql("DELETE FROM jobs WHERE id = :id AND kind = :kind")
_FINISH_ALL_ALONG = (
    "DELETE FROM jobs WHERE kind = :finished_kind AND id IN (SELECT value FROM json_each(:finished_jobs))",
    "DELETE FROM jobs WHERE kind = :finished_kind AND id = ANY(:finished_jobs)",
)
_HAND_OVER = sql(
    "UPDATE jobs SET kind = :kind, payload = :payload, run_at_us = :run_at, attempts = 0, locked_by = NULL, "
    "last_error = NULL, created_at_us = :now WHERE id = :id AND kind = :old_kind"
)
_RETRY = sql(
    "UPDATE jobs SET run_at_us = :run_at, locked_by = NULL, last_error = :error WHERE id = :id AND kind = :kind"
)
_POSTPONE = sql(
    "UPDATE jobs SET run_at_us = :run_at, locked_by = NULL, attempts = attempts - 1, last_error = :reason "
    "WHERE id = :id AND kind = :kind"
)
_FAIL = sql(
    "INSERT INTO failed_jobs (kind, payload, attempts, last_error, created_at_us, failed_at_us) "
    "VALUES (:kind, :payload, :attempts, :error, :created, :now)"
)
_RELEASE_CLAIMS = sql("UPDATE jobs SET run_at_us = :now, locked_by = NULL WHERE locked_by = :worker")
_CLAIMANTS = sql("SELECT DISTINCT locked_by FROM jobs WHERE locked_by LIKE :prefix")
_DEPTH = sql("SELECT COUNT(*) AS depth, MIN(created_at_us) AS oldest FROM jobs")
_DEPTH_BY_KIND = sql("SELECT kind, COUNT(*) AS depth FROM jobs GROUP BY kind")


@dataclass(slots=True)
class _Finishing:
    job: Job
    handed_over: bool = False


_finishing: ContextVar[_Finishing | None] = ContextVar("telroute_job_finishing", default=None)


async def enqueue(connection: Connection, kind: str, payload: dict[str, Any], *, now: int, delay_us: int = 0) -> None:
    params = {"kind": kind, "payload": json.dumps(payload), "run_at": now + delay_us, "now": now}
    if await _hand_over(connection, params):
        return
    await connection.execute(_ENQUEUE, params)


async def _hand_over(connection: Connection, params: dict[str, Any]) -> bool:
    """Inside `finishing`: the first job enqueued of another kind takes over the finishing job's row (one
    UPDATE instead of a DELETE and an INSERT). False when there is none to take over, or it is gone."""
    finishing = _finishing.get()
    if finishing is None or finishing.handed_over or finishing.job.kind == params["kind"]:
        return False
    old = {"id": finishing.job.id, "old_kind": finishing.job.kind}
    finishing.handed_over = await connection.execute(_HAND_OVER, params | old) == 1
    return finishing.handed_over


@asynccontextmanager
async def finishing(connection: Connection, job: Job) -> AsyncIterator[None]:
    """Finish `job` in `connection`'s transaction when the block succeeds. A job the block enqueues may reuse
    its row: the transaction then holds the same change as a `finish` plus an `enqueue`."""
    state = _Finishing(job)
    token = _finishing.set(state)
    try:
        yield
    finally:
        _finishing.reset(token)
    if not state.handed_over:
        await finish(connection, job)


async def claim(database: Database, worker: str, *, now: int, lease_us: int, limit: int) -> list[Job]:
    async with database.transaction() as connection:
        rows = await connection.fetch(_CLAIM, {"until": now + lease_us, "worker": worker, "now": now, "limit": limit})
    return [
        Job(row["id"], row["kind"], json.loads(row["payload"]), row["attempts"], row["created_at_us"]) for row in rows
    ]


async def finish(connection: Connection, job: Job) -> None:
    await connection.execute(_FINISH, {"id": job.id, "kind": job.kind})


@cache
def _finish_all_along(write: Query) -> Pair:
    sqlite_finish, postgres_finish = _FINISH_ALL_ALONG
    return Pair(
        write, sql(sqlite_finish), sql(f"WITH finished AS ({postgres_finish}) {write.postgres or write.sqlite}")
    )


async def finish_all_with(
    connection: Connection, finished: Sequence[Job], write: Query, params: Mapping[str, Any]
) -> None:
    """Finish the jobs (all of one kind) and run `write` (an INSERT or UPDATE that needs nothing from them): on
    PostgreSQL in one statement."""
    kinds = {job.kind for job in finished}
    if len(kinds) != 1:
        raise ValueError(f"finish_all_with takes jobs of one kind, not {sorted(kinds)}")
    ends = {"finished_jobs": [job.id for job in finished], "finished_kind": kinds.pop()}
    await connection.execute_pair(_finish_all_along(write), {**params, **ends})


async def retry(connection: Connection, job: Job, *, run_at: int, error: str) -> None:
    await connection.execute(_RETRY, {"id": job.id, "kind": job.kind, "run_at": run_at, "error": error[:2000]})


async def postpone(connection: Connection, job: Job, *, run_at: int, reason: str) -> None:
    """Give the job back untried: its claim does not count as an attempt."""
    await connection.execute(_POSTPONE, {"id": job.id, "kind": job.kind, "run_at": run_at, "reason": reason[:2000]})


async def fail(connection: Connection, job: Job, *, now: int, error: str) -> None:
    await connection.execute(
        _FAIL,
        {
            "kind": job.kind,
            "payload": json.dumps(job.payload),
            "attempts": job.attempts,
            "error": error[:2000],
            "created": job.created_at_us,
            "now": now,
        },
    )
    await finish(connection, job)


async def release_claims(database: Database, worker: str, *, now: int) -> int:
    """Make a worker's unfinished claims due again at once (it stopped, or is known dead)."""
    async with database.transaction() as connection:
        released: int = await connection.execute(_RELEASE_CLAIMS, {"worker": worker, "now": now})
    return released


async def claimants_on_host(database: Database, host: str) -> list[str]:
    rows = await database.fetch(_CLAIMANTS, {"prefix": f"{host}:%"})
    return [row["locked_by"] for row in rows]


async def queue_depth(database: Database) -> tuple[int, int | None]:
    row = await database.fetchrow(_DEPTH)
    assert row is not None
    return int(row["depth"]), row["oldest"]


async def depth_by_kind(database: Database) -> dict[str, int]:
    return {row["kind"]: int(row["depth"]) for row in await database.fetch(_DEPTH_BY_KIND)}


def backoff_us(attempts: int, *, base: float = 1.0, cap: float = 300.0) -> int:
    return int(min(cap, base * 2 ** max(0, attempts - 1)) * 1_000_000)
