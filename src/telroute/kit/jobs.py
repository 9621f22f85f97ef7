"""The job queue: a table in the same database as the data (a transactional outbox).

Jobs are enqueued in the caller's transaction, so a job exists exactly when the change that
needs it was committed. A claim moves `run_at_us` forward by the lease: a claimed job is simply
not due until the lease lapses, and a job whose worker died becomes due again by itself.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping, Sequence
from contextlib import asynccontextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from functools import cache
from typing import Any

from telroute.kit import json_text
from telroute.kit.db import Connection, Database, Guarded, Pair, Query, on_postgres, sql


@dataclass(frozen=True, slots=True)
class Job:
    id: int
    kind: str
    payload: dict[str, Any]
    attempts: int
    created_at_us: int


_ENQUEUED = "INSERT INTO jobs (kind, payload, run_at_us, attempts, created_at_us)"
_ENQUEUE = sql(f"{_ENQUEUED} VALUES (:kind, :payload, :run_at, 0, :now)")


# A job of kind `:job_kind` whose payload names one new row, written by the statement that writes the row
# (`kit/db.Chain`): for SQLite the Chain's `last` statement, the row's id as `:chained`; for PostgreSQL a
# CTE enqueuing one job per row that the CTE `source` returns.
def enqueue_chained(key: str) -> Query:
    return sql(f"{_ENQUEUED} VALUES (:job_kind, json_object('{key}', :chained), :now, 0, :now)")


def enqueue_each(key: str) -> Query:
    """SQLite: a job of kind `:job_kind` for each id of `:ids` (a JSON array), its payload naming it as `key`."""
    return sql(f"{_ENQUEUED} SELECT :job_kind, json_object('{key}', value), :now, 0, :now FROM json_each(:ids)")


def enqueue_cte(source: str, key: str) -> str:
    payload = f"CAST(json_build_object('{key}', id) AS TEXT)"
    return f"enqueued AS ({_ENQUEUED} SELECT :job_kind, {payload}, :now, 0, :now FROM {source})"


_CLAIM = sql(
    """UPDATE jobs SET run_at_us = :until, locked_by = :worker, attempts = attempts + 1
       WHERE id IN (SELECT id FROM jobs WHERE run_at_us <= :now ORDER BY run_at_us, id LIMIT :limit)
       RETURNING id, kind, payload, attempts, created_at_us""",
    # `= ANY(ARRAY(...))`, not `IN (...)`: with IN, PostgreSQL joins the chosen ids with a scan of the whole
    # table, and a queue's table is large exactly when claims must be quick.
    postgres="""UPDATE jobs SET run_at_us = :until, locked_by = :worker, attempts = attempts + 1
       WHERE id = ANY(ARRAY(SELECT id FROM jobs WHERE run_at_us <= :now ORDER BY run_at_us, id LIMIT :limit
                            FOR UPDATE SKIP LOCKED))
       RETURNING id, kind, payload, attempts, created_at_us""",
)
# A job's row is matched by id and kind: a finished job's row may live on as its successor (`finishing`),
# always of another kind, which a worker still running the old job after its lease lapsed must not touch.
_FINISH = sql("DELETE FROM jobs WHERE id = :id AND kind = :kind")
_FINISH_ALL_ALONG = (
    "DELETE FROM jobs WHERE kind = :finished_kind AND id IN (SELECT value FROM json_each(:finished_jobs))",
    "DELETE FROM jobs WHERE kind = :finished_kind AND id = ANY(:finished_jobs)",
)
_FINISH_ALL = sql(_FINISH_ALL_ALONG[0], postgres=_FINISH_ALL_ALONG[1])
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
    enqueued: list[dict[str, Any]] = field(default_factory=list)  # written when the block ends


_finishing: ContextVar[_Finishing | None] = ContextVar("telroute_job_finishing", default=None)

# The jobs a finishing job's block enqueued (`:jobs`, a JSON array), written together with its end: the one
# marked `handover` takes the finishing job's row (`:id`, `:old_kind`) when that row is still there, and is
# inserted when it is not; the others are inserted.
_HANDED_OVER = sql(
    "UPDATE jobs SET kind = :kind, payload = :payload, run_at_us = :run_at, attempts = 0, locked_by = NULL, "
    "last_error = NULL, created_at_us = :now WHERE id = :id AND kind = :old_kind"
)
_ENQUEUED_BESIDE = sql(
    f"{_ENQUEUED} SELECT json_extract(value, '$.kind'), json_extract(value, '$.payload'), "
    "json_extract(value, '$.run_at'), 0, json_extract(value, '$.now') FROM json_each(:jobs) "
    "WHERE NOT (json_extract(value, '$.handover') AND EXISTS ("
    "SELECT 1 FROM jobs WHERE id = :id AND kind = :kind AND payload = :payload AND created_at_us = :now))"
)
_HAND_OVER_AND_ENQUEUE = Pair(
    _HANDED_OVER,
    _ENQUEUED_BESIDE,
    sql(
        "",
        postgres=f"WITH handed AS ({_HANDED_OVER.sqlite} RETURNING id) {_ENQUEUED} "
        "SELECT r.kind, r.payload, r.run_at, 0, r.now FROM jsonb_to_recordset(CAST(:jobs AS jsonb)) "
        "AS r(kind text, payload text, run_at bigint, now bigint, handover boolean) "
        "WHERE NOT (r.handover AND EXISTS (SELECT 1 FROM handed))",
    ),
)


def job_params(kind: str, payload: dict[str, Any], *, now: int, delay_us: int = 0) -> dict[str, Any]:
    """A job to enqueue, as `end_after` takes it."""
    return {"kind": kind, "payload": json_text.dumps(payload), "run_at": now + delay_us, "now": now}


async def enqueue(connection: Connection, kind: str, payload: dict[str, Any], *, now: int, delay_us: int = 0) -> None:
    """A job, in `connection`'s transaction. Inside `finishing`, written when its block ends."""
    params = job_params(kind, payload, now=now, delay_us=delay_us)
    finishing = _finishing.get()
    if finishing is not None:
        finishing.enqueued.append(params)
        return
    await connection.execute(_ENQUEUE, params)


@asynccontextmanager
async def finishing(connection: Connection, job: Job) -> AsyncIterator[None]:
    """Finish `job` in `connection`'s transaction when the block succeeds. The first job the block enqueues
    of another kind reuses its row (an UPDATE instead of a DELETE and an INSERT), and on PostgreSQL every job
    it enqueued is written in that one statement."""
    state = _Finishing(job)
    token = _finishing.set(state)
    try:
        yield
    finally:
        _finishing.reset(token)
    await _end(connection, job, state.enqueued)


async def _end(connection: Connection, job: Job, enqueued: list[dict[str, Any]]) -> None:
    successor = next((params for params in enqueued if params["kind"] != job.kind), None)
    if successor is None:
        await finish(connection, job)
        for params in enqueued:
            await connection.execute(_ENQUEUE, params)
        return
    old = {"id": job.id, "old_kind": job.kind}
    if len(enqueued) == 1:  # the successor alone: inserted only in the rare case its row is gone
        if await connection.execute(_HANDED_OVER, successor | old) != 1:
            await connection.execute(_ENQUEUE, successor)
        return
    marked = [params | {"handover": params is successor} for params in enqueued]
    await connection.execute_pair(_HAND_OVER_AND_ENQUEUE, successor | old | {"jobs": json_text.dumps(marked)})


# PostgreSQL: a Guarded write's CTEs (`ctes`, the first named `moved`) with the end of a job: its row deleted
# (`:ended_id`, `:ended_kind`) and the jobs of `:ended_jobs` inserted, those marked `when_moved` only when
# `moved` changed a row. Returns how many it changed.
_ENDED_JOBS = (
    "jsonb_to_recordset(CAST(:ended_jobs AS jsonb)) "
    "AS r(kind text, payload text, run_at bigint, now bigint, when_moved boolean)"
)


def ending_rows_ctes(rows: str, key: str) -> str:
    """PostgreSQL CTEs that end several jobs at once: for each row of the CTE `rows` (columns `job_id`,
    `job_kind`, `jobs`: a JSON array of `job_params` records with `when_moved`), the job's row deleted, and
    its jobs inserted, those marked `when_moved` only when the CTE `moved` returned the row's `key` as `id`."""
    return f"""ended AS (DELETE FROM jobs j USING {rows} r WHERE j.id = r.job_id AND j.kind = r.job_kind),
    successors AS ({_ENQUEUED} SELECT s.kind, s.payload, s.run_at, 0, s.now
      FROM {rows} r LEFT JOIN moved ON moved.id = r.{key} CROSS JOIN LATERAL
        jsonb_to_recordset(r.jobs) AS s(kind text, payload text, run_at bigint, now bigint, when_moved boolean)
      WHERE NOT s.when_moved OR moved.id IS NOT NULL)"""


# SQLite: the ends of several jobs (`end_all`); PostgreSQL writes them as CTEs (`ending_rows_ctes`).
async def end_all(connection: Connection, ended: Sequence[Job], enqueued: Sequence[dict[str, Any]]) -> None:
    """SQLite: finish the jobs `ended` and enqueue `enqueued` (`job_params`), in the caller's transaction: a
    statement per kind ended and one for the jobs enqueued."""
    for kind in dict.fromkeys(job.kind for job in ended):
        await finish_all(connection, [job for job in ended if job.kind == kind])
    if enqueued:  # bound row by row: `json_each` would parse each record, its payload in it, once a field
        await connection.executemany(_ENQUEUE, enqueued)


def marked_jobs(when_moved: Sequence[dict[str, Any]], always: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """The jobs of a row of `ending_rows_ctes`: `job_params` records marked `when_moved` or not."""
    return [job | {"when_moved": True} for job in when_moved] + [job | {"when_moved": False} for job in always]


@cache
def _ending(ctes: str) -> Query:
    return sql(
        "",
        postgres=f"WITH {ctes}, ended AS (DELETE FROM jobs WHERE id = :ended_id AND kind = :ended_kind), "
        f"successors AS ({_ENQUEUED} SELECT r.kind, r.payload, r.run_at, 0, r.now FROM {_ENDED_JOBS} "
        "WHERE NOT r.when_moved OR EXISTS (SELECT 1 FROM moved)) SELECT COUNT(*) FROM moved",
    )


async def end_after(
    connection: Connection,
    job: Job,
    write: Guarded,
    params: Mapping[str, Any],
    *,
    when_moved: Sequence[dict[str, Any]],
    always: Sequence[dict[str, Any]] = (),
) -> bool:
    """Run `write` and end `job` with it: the jobs `when_moved` (`job_params`) are enqueued only when the
    write changed rows, those of `always` in any case. On PostgreSQL one statement (for `Database.alone`).
    True when the write changed rows."""
    if on_postgres(connection):
        if not write.ctes:
            raise ValueError("end_after needs the write's PostgreSQL CTEs (Guarded.ctes)")
        marked = marked_jobs(when_moved, always)
        ended = {"ended_id": job.id, "ended_kind": job.kind, "ended_jobs": json_text.dumps(marked)}
        return bool(await connection.fetchval(_ending(write.ctes), {**params, **ended}))
    moved = await connection.execute_guarded(write, params) > 0
    await _end(connection, job, [*(when_moved if moved else ()), *always])
    return moved


async def claim(database: Database, worker: str, *, now: int, lease_us: int, limit: int) -> list[Job]:
    async with database.alone() as connection:
        rows = await connection.fetch(_CLAIM, {"until": now + lease_us, "worker": worker, "now": now, "limit": limit})
    return [
        Job(row["id"], row["kind"], json_text.loads(row["payload"]), row["attempts"], row["created_at_us"])
        for row in rows
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
    await connection.execute_pair(_finish_all_along(write), {**params, **_ends(finished)})


async def finish_all(connection: Connection, finished: Sequence[Job]) -> None:
    """Finish the jobs (all of one kind)."""
    await connection.execute(_FINISH_ALL, _ends(finished))


def _ends(finished: Sequence[Job]) -> dict[str, Any]:
    kinds = {job.kind for job in finished}
    if len(kinds) != 1:
        raise ValueError(f"finishing jobs together takes jobs of one kind, not {sorted(kinds)}")
    return {"finished_jobs": [job.id for job in finished], "finished_kind": kinds.pop()}


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
            "payload": json_text.dumps(job.payload),
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
