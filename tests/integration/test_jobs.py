"""The jobs table as a queue: enqueue, claim under a lease, lapse and reclaim, retry, fail.

Each module gets a database of its own (on PostgreSQL a fresh one): a running server's worker
sharing the suite's database would claim these jobs."""

from __future__ import annotations

import asyncio
import json
import threading
from pathlib import Path

import pytest

from telroute.kit import db as dbkit
from telroute.kit import jobs
from telroute.kit.db import Database, Guarded, sql
from telroute.kit.jobs import Job
from tests.support.databases import on_postgres

T0 = 1_800_000_000_000_000  # a fixed "now" in microseconds: claims are decided by the times passed in
LEASE = 10_000_000


async def enqueue(
    database: Database, kind: str, payload: dict[str, object], *, now: int = T0, delay_us: int = 0
) -> None:
    async with database.transaction() as connection:
        await jobs.enqueue(connection, kind, payload, now=now, delay_us=delay_us)


async def claim(database: Database, now: int, *, limit: int = 100, worker: str = "w1") -> list[Job]:
    return await jobs.claim(database, worker, now=now, lease_us=LEASE, limit=limit)


async def job_row(database: Database, job_id: int) -> dict[str, object] | None:
    row = await database.fetchrow(
        sql("SELECT run_at_us, attempts, locked_by, last_error FROM jobs WHERE id = :id"), {"id": job_id}
    )
    return None if row is None else dict(row)


async def test_a_job_is_claimed_with_its_payload_and_first_attempt(database: Database) -> None:
    payload = {"message_id": 7, "nested": {"list": [1, "two", None], "flag": True}, "text": "ünïcode ✓"}
    await enqueue(database, "deliver_message", payload)
    [job] = await claim(database, T0)
    assert (job.kind, job.payload, job.attempts, job.created_at_us) == ("deliver_message", payload, 1, T0)
    assert await job_row(database, job.id) == {
        "run_at_us": T0 + LEASE,
        "attempts": 1,
        "locked_by": "w1",
        "last_error": None,
    }


async def test_a_delayed_job_is_not_due_before_its_time(database: Database) -> None:
    await enqueue(database, "later", {}, delay_us=5_000_000)
    assert await claim(database, T0 + 4_999_999) == []
    [job] = await claim(database, T0 + 5_000_000)
    assert job.kind == "later"


async def test_a_claimed_job_is_due_again_only_when_its_lease_lapses(database: Database) -> None:
    await enqueue(database, "k", {"n": 1})
    [first] = await claim(database, T0, worker="dead-worker")
    assert await claim(database, T0, worker="other") == []
    assert await claim(database, T0 + LEASE - 1, worker="other") == []
    [again] = await claim(database, T0 + LEASE, worker="other")
    assert again.id == first.id
    assert again.attempts == 2
    assert again.payload == {"n": 1}
    row = await job_row(database, again.id)
    assert row is not None and row["locked_by"] == "other" and row["run_at_us"] == T0 + 2 * LEASE


async def test_claims_come_oldest_due_first_and_respect_the_limit(database: Database) -> None:
    for index in range(5):
        await enqueue(database, "k", {"i": index}, now=T0 + index)
    await enqueue(database, "k", {"i": "early"}, now=T0 - 100)
    first = await claim(database, T0 + 10, limit=2)
    second = await claim(database, T0 + 10, limit=3)
    third = await claim(database, T0 + 10, limit=3)
    # which jobs a claim takes is decided by due time; the order RETURNING lists them in is not
    assert {job.payload["i"] for job in first} == {"early", 0}
    assert {job.payload["i"] for job in second} == {1, 2, 3}
    assert {job.payload["i"] for job in third} == {4}


async def test_retry_sets_the_next_run_and_keeps_the_error(database: Database) -> None:
    await enqueue(database, "k", {})
    [job] = await claim(database, T0)
    async with database.transaction() as connection:
        await jobs.retry(connection, job, run_at=T0 + 3_000_000, error="customer said 503" + "!" * 3000)
    row = await job_row(database, job.id)
    assert row is not None
    assert row["locked_by"] is None
    assert row["run_at_us"] == T0 + 3_000_000
    assert row["last_error"] == ("customer said 503" + "!" * 3000)[:2000]
    assert await claim(database, T0 + 2_999_999) == []
    [again] = await claim(database, T0 + 3_000_000)
    assert again.attempts == 2


async def test_fail_moves_the_job_to_failed_jobs(database: Database) -> None:
    await enqueue(database, "doomed", {"why": "test"}, now=T0 - 5)
    [job] = await claim(database, T0)
    async with database.transaction() as connection:
        await jobs.fail(connection, job, now=T0 + 1, error="GiveUp: never")
    assert await job_row(database, job.id) is None
    rows = await database.fetch(
        sql("SELECT kind, payload, attempts, last_error, created_at_us, failed_at_us FROM failed_jobs")
    )
    assert [dict(row) | {"payload": json.loads(row["payload"])} for row in rows] == [
        {
            "kind": "doomed",
            "payload": {"why": "test"},
            "attempts": 1,
            "last_error": "GiveUp: never",
            "created_at_us": T0 - 5,
            "failed_at_us": T0 + 1,
        }
    ]


async def test_finish_deletes_the_job_and_depth_counts_what_is_left(database: Database) -> None:
    for kind in ("a", "a", "b"):
        await enqueue(database, kind, {}, now=T0 + len(kind))
    assert await jobs.queue_depth(database) == (3, T0 + 1)
    assert await jobs.depth_by_kind(database) == {"a": 2, "b": 1}
    [job, *_] = await claim(database, T0 + 10, limit=1)
    async with database.transaction() as connection:
        await jobs.finish(connection, job)
    assert await jobs.queue_depth(database) == (2, T0 + 1)
    assert await jobs.depth_by_kind(database) == {"a": 1, "b": 1}


def test_backoff_doubles_from_the_base_up_to_the_cap() -> None:
    assert [jobs.backoff_us(attempt) for attempt in range(0, 11)] == [
        1_000_000,
        1_000_000,
        2_000_000,
        4_000_000,
        8_000_000,
        16_000_000,
        32_000_000,
        64_000_000,
        128_000_000,
        256_000_000,
        300_000_000,
    ]
    assert jobs.backoff_us(3, base=0.5, cap=1.5) == 1_500_000
    assert jobs.backoff_us(2, base=0.5) == 1_000_000


def _claim_until_empty(url: str, worker: str, claimed: list[int], start: threading.Barrier) -> None:
    """One claimer with its own connection (its own pool on PostgreSQL), as another process would have."""

    async def run() -> None:
        database = await dbkit.connect(url, pool_size=4)
        try:
            start.wait()

            async def loop() -> None:
                while jobs_now := await jobs.claim(database, worker, now=T0, lease_us=LEASE, limit=3):
                    claimed.extend(job.id for job in jobs_now)
                    await asyncio.sleep(0)

            await asyncio.gather(loop(), loop(), loop())
        finally:
            await database.close()

    asyncio.run(run())


async def test_concurrent_claimers_on_separate_connections_never_share_a_job(
    database: Database, database_url: str, tmp_path: Path
) -> None:
    total = 300
    async with database.transaction() as connection:
        for index in range(total):
            await jobs.enqueue(connection, "k", {"i": index}, now=T0 - 1)
    expected = {int(row["id"]) for row in await database.fetch(sql("SELECT id FROM jobs"))}
    claims: dict[str, list[int]] = {"a": [], "b": []}
    start = threading.Barrier(2)
    threads = [
        threading.Thread(target=_claim_until_empty, args=(database_url, name, claimed, start))
        for name, claimed in claims.items()
    ]
    for thread in threads:
        thread.start()

    def join_all() -> None:
        for thread in threads:
            thread.join(timeout=120)

    await asyncio.to_thread(join_all)
    everything = claims["a"] + claims["b"]
    assert len(everything) == len(set(everything)) == total  # nobody got a job twice
    assert set(everything) == expected
    if on_postgres():  # SQLite serializes writers on the file lock: one claimer may drain the queue alone
        assert claims["a"] and claims["b"], "both claimers took part"


async def test_a_finishing_job_hands_its_row_to_the_first_job_it_enqueues_of_another_kind(database: Database) -> None:
    await enqueue(database, "deliver_message", {"message_id": 1})
    [job] = await claim(database, T0)
    async with database.transaction() as connection, jobs.finishing(connection, job):
        await jobs.enqueue(connection, "deliver_message", {"message_id": 2}, now=T0 + 1)
        await jobs.enqueue(connection, "carrier_receipt", {"id": "a"}, now=T0 + 2, delay_us=300)
        await jobs.enqueue(connection, "deliver_webhook", {"url": "b"}, now=T0 + 3)
    successors = await claim(database, T0 + 1_000)
    assert sorted((found.kind, found.payload, found.attempts) for found in successors) == [
        ("carrier_receipt", {"id": "a"}, 1),
        ("deliver_message", {"message_id": 2}, 1),
        ("deliver_webhook", {"url": "b"}, 1),
    ]
    [taken_over] = [found for found in successors if found.kind == "carrier_receipt"]
    assert (taken_over.id, taken_over.created_at_us) == (job.id, T0 + 2)
    assert await job_row(database, job.id) == {
        "run_at_us": T0 + 1_000 + LEASE,
        "attempts": 1,
        "locked_by": "w1",
        "last_error": None,
    }


async def test_a_finishing_job_that_enqueues_nothing_is_deleted_and_a_failed_block_keeps_it(database: Database) -> None:
    await enqueue(database, "deliver_message", {"message_id": 1})
    [job] = await claim(database, T0)
    try:
        async with database.transaction() as connection, jobs.finishing(connection, job):
            await jobs.enqueue(connection, "carrier_receipt", {"id": "a"}, now=T0)
            raise RuntimeError("the handler failed")
    except RuntimeError:
        pass
    assert await job_row(database, job.id) is not None
    assert await jobs.depth_by_kind(database) == {"deliver_message": 1}
    async with database.transaction() as connection, jobs.finishing(connection, job):
        pass
    assert await jobs.queue_depth(database) == (0, None)


async def test_a_late_worker_cannot_finish_or_retry_the_successor_that_took_over_its_job_row(
    database: Database,
) -> None:
    await enqueue(database, "deliver_message", {"message_id": 1})
    [job] = await claim(database, T0)
    async with database.transaction() as connection, jobs.finishing(connection, job):
        await jobs.enqueue(connection, "deliver_webhook", {"url": "b"}, now=T0)
    async with database.transaction() as connection:
        await jobs.retry(connection, job, run_at=T0 + 99, error="late")
        await jobs.finish(connection, job)
    [successor] = await claim(database, T0)
    assert (successor.id, successor.kind, successor.attempts) == (job.id, "deliver_webhook", 1)


async def test_a_job_whose_row_is_gone_still_gets_its_successor(database: Database) -> None:
    await enqueue(database, "deliver_message", {"message_id": 1})
    [job] = await claim(database, T0)
    async with database.transaction() as connection:
        await jobs.finish(connection, job)
    async with database.transaction() as connection, jobs.finishing(connection, job):
        await jobs.enqueue(connection, "deliver_webhook", {"url": "b"}, now=T0)
        await jobs.enqueue(connection, "carrier_receipt", {"id": "a"}, now=T0)
    assert await jobs.depth_by_kind(database) == {"deliver_webhook": 1, "carrier_receipt": 1}


async def test_a_finishing_job_ends_with_all_it_enqueued_in_one_statement_on_postgres(database: Database) -> None:
    await enqueue(database, "deliver_message", {"message_id": 1})
    [job] = await claim(database, T0)
    before = database.counted.statements
    async with database.transaction() as connection, jobs.finishing(connection, job):
        await jobs.enqueue(connection, "deliver_webhook", {"url": "b"}, now=T0)
        await jobs.enqueue(connection, "carrier_receipt", {"id": "a"}, now=T0)
    assert database.counted.statements - before == (1 if on_postgres() else 2)
    assert await jobs.depth_by_kind(database) == {"deliver_webhook": 1, "carrier_receipt": 1}


async def test_a_finishing_job_that_enqueues_only_its_own_kind_is_deleted_beside_them(database: Database) -> None:
    await enqueue(database, "deliver_message", {"message_id": 1})
    [job] = await claim(database, T0)
    async with database.transaction() as connection, jobs.finishing(connection, job):
        await jobs.enqueue(connection, "deliver_message", {"message_id": 1, "earlier_attempts": 1}, now=T0)
    [again] = await claim(database, T0 + LEASE + 1)  # the old job, whose lease lapsed by then, is gone
    assert (again.payload, again.attempts) == ({"message_id": 1, "earlier_attempts": 1}, 1)


async def test_finish_all_with_runs_the_write_and_finishes_the_jobs_of_their_kind(database: Database) -> None:
    for url in "abc":
        await enqueue(database, "deliver_webhook", {"url": url})
    first, second, third = await claim(database, T0 + 1)
    async with database.transaction() as connection, jobs.finishing(connection, second):
        await jobs.enqueue(connection, "carrier_receipt", {"took": "the row over"}, now=T0)
    mark = sql("UPDATE jobs SET last_error = :note WHERE kind = 'carrier_receipt'")
    async with database.transaction() as connection:
        await jobs.finish_all_with(connection, [first, second, third], mark, {"note": "noted"})
    assert await job_row(database, first.id) is None
    assert await job_row(database, third.id) is None
    assert (await job_row(database, second.id) or {})["last_error"] == "noted"  # another kind's row now: kept


async def test_finish_all_with_refuses_jobs_of_several_kinds(database: Database) -> None:
    await enqueue(database, "deliver_webhook", {"url": "a"})
    await enqueue(database, "deliver_message", {"message_id": 1})
    claimed = await claim(database, T0 + 1)
    with pytest.raises(ValueError, match="one kind"):
        async with database.transaction() as connection:
            await jobs.finish_all_with(connection, claimed, sql("SELECT 1"), {})
    assert await jobs.depth_by_kind(database) == {"deliver_webhook": 1, "deliver_message": 1}


_BUMP = "UPDATE rate_limits SET tat_us = :tat WHERE bucket = :bucket AND tat_us < :tat"
_NOTED = "INSERT INTO rate_limits (bucket, tat_us) SELECT bucket || '-moved', CAST(:tat AS BIGINT) FROM moved"
_BUMPED = Guarded(  # a write of rows, and a second write made only when the first changed some
    sql(_BUMP),
    sql("INSERT INTO rate_limits (bucket, tat_us) VALUES (:bucket || '-moved', :tat)"),
    sql("", postgres=f"WITH moved AS ({_BUMP} RETURNING bucket) {_NOTED}"),
    ctes=f"moved AS ({_BUMP} RETURNING bucket), noted AS ({_NOTED})",
)


@pytest.mark.parametrize("moves", [True, False])
async def test_end_after_writes_ends_the_job_and_enqueues_what_the_write_calls_for(
    database: Database, moves: bool
) -> None:
    bucket = f"end-after:{moves}"
    async with database.transaction() as connection:
        await connection.execute(
            sql("INSERT INTO rate_limits (bucket, tat_us) VALUES (:bucket, 5)"), {"bucket": bucket}
        )
    await enqueue(database, "deliver_message", {"message_id": 1})
    [job] = await claim(database, T0)
    before = database.counted.statements
    async with database.alone() as connection:
        moved = await jobs.end_after(
            connection,
            job,
            _BUMPED,
            {"bucket": bucket, "tat": 10 if moves else 1},
            when_moved=[jobs.job_params("deliver_webhook", {"url": "b"}, now=T0)],
            always=[jobs.job_params("carrier_receipt", {"id": "a"}, now=T0, delay_us=7)],
        )
    assert moved is moves
    if on_postgres():
        assert database.counted.statements - before == 1
    noted = await database.fetchval(sql("SELECT COUNT(*) FROM rate_limits WHERE bucket = :b"), {"b": f"{bucket}-moved"})
    assert noted == int(moves)
    expected = {"deliver_webhook": 1, "carrier_receipt": 1} if moves else {"carrier_receipt": 1}
    assert await jobs.depth_by_kind(database) == expected
    due = await claim(database, T0 + LEASE + 7)  # the deliver job is not among them: it ended
    assert sorted((job.kind, job.payload) for job in due) == sorted(
        [("carrier_receipt", {"id": "a"})] + ([("deliver_webhook", {"url": "b"})] if moves else [])
    )


@pytest.mark.postgres_only
async def test_a_claim_reads_the_queue_through_its_indexes_however_long_it_is(database: Database) -> None:
    """A claim in a deep queue must not scan the whole table (its chosen ids joined with every row was)."""
    await database.execute(
        sql(
            "INSERT INTO jobs (kind, payload, run_at_us, attempts, created_at_us) "
            "SELECT 'deep', '{}', CAST(:now AS BIGINT) + n, 0, CAST(:now AS BIGINT) FROM generate_series(1, 20000) AS n"
        ),
        {"now": T0},
    )
    explain = sql("", postgres=f"EXPLAIN {jobs._CLAIM.postgres}")  # the plan PostgreSQL makes for these values
    params = {"until": T0 + LEASE, "worker": "w1", "now": T0 + 30_000, "limit": 100}
    plan = "\n".join(row["QUERY PLAN"] for row in await database.fetch(explain, params))
    assert "Seq Scan on jobs" not in plan, plan
    assert len(await claim(database, T0 + 30_000)) == 100
