"""The job queue: a table in the same database as the data (a transactional outbox).

Jobs are enqueued in the caller's transaction, so a job exists exactly when the change that
needs it was committed. A claim moves `run_at_us` forward by the lease: a claimed job is simply
not due until the lease lapses, and a job whose worker died becomes due again by itself.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from telroute.kit.db import Connection, Database, sql


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
_CLAIM = sql(
    """UPDATE jobs SET run_at_us = :until, locked_by = :worker, attempts = attempts + 1
       WHERE id IN (SELECT id FROM jobs WHERE run_at_us <= :now ORDER BY run_at_us, id LIMIT :limit)
       RETURNING id, kind, payload, attempts, created_at_us""",
    postgres="""UPDATE jobs SET run_at_us = :until, locked_by = :worker, attempts = attempts + 1
       WHERE id IN (SELECT id FROM jobs WHERE run_at_us <= :now ORDER BY run_at_us, id LIMIT :limit
                    FOR UPDATE SKIP LOCKED)
       RETURNING id, kind, payload, attempts, created_at_us""",
)
_FINISH = sql("DELETE FROM jobs WHERE id = :id")
_RETRY = sql("UPDATE jobs SET run_at_us = :run_at, locked_by = NULL, last_error = :error WHERE id = :id")
_POSTPONE = sql(
    "UPDATE jobs SET run_at_us = :run_at, locked_by = NULL, attempts = attempts - 1, last_error = :reason "
    "WHERE id = :id"
)
_FAIL = sql(
    "INSERT INTO failed_jobs (kind, payload, attempts, last_error, created_at_us, failed_at_us) "
    "VALUES (:kind, :payload, :attempts, :error, :created, :now)"
)
_RELEASE_CLAIMS = sql("UPDATE jobs SET run_at_us = :now, locked_by = NULL WHERE locked_by = :worker")
_CLAIMANTS = sql("SELECT DISTINCT locked_by FROM jobs WHERE locked_by LIKE :prefix")
_DEPTH = sql("SELECT COUNT(*) AS depth, MIN(created_at_us) AS oldest FROM jobs")
_DEPTH_BY_KIND = sql("SELECT kind, COUNT(*) AS depth FROM jobs GROUP BY kind")


async def enqueue(connection: Connection, kind: str, payload: dict[str, Any], *, now: int, delay_us: int = 0) -> None:
    params = {"kind": kind, "payload": json.dumps(payload), "run_at": now + delay_us, "now": now}
    await connection.execute(_ENQUEUE, params)


async def claim(database: Database, worker: str, *, now: int, lease_us: int, limit: int) -> list[Job]:
    async with database.transaction() as connection:
        rows = await connection.fetch(_CLAIM, {"until": now + lease_us, "worker": worker, "now": now, "limit": limit})
    return [
        Job(row["id"], row["kind"], json.loads(row["payload"]), row["attempts"], row["created_at_us"]) for row in rows
    ]


async def finish(connection: Connection, job: Job) -> None:
    await connection.execute(_FINISH, {"id": job.id})


async def retry(connection: Connection, job: Job, *, run_at: int, error: str) -> None:
    await connection.execute(_RETRY, {"id": job.id, "run_at": run_at, "error": error[:2000]})


async def postpone(connection: Connection, job: Job, *, run_at: int, reason: str) -> None:
    """Give the job back untried: its claim does not count as an attempt."""
    await connection.execute(_POSTPONE, {"id": job.id, "run_at": run_at, "reason": reason[:2000]})


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
