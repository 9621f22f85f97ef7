"""The worker vacuums the job queue's table where nothing else would (PostgreSQL with autovacuum off), and
does nothing on SQLite or where autovacuum runs."""

from __future__ import annotations

import asyncio

import pytest

from telroute.kit import queue_upkeep
from telroute.kit.db import Database, sql, writes_with_ctes

_VACUUMS = sql("", postgres="SELECT vacuum_count FROM pg_stat_user_tables WHERE relname = 'jobs'")
_AUTOVACUUM = sql("", postgres="SELECT current_setting('autovacuum')")


async def vacuums(database: Database) -> int:
    return int(await database.fetchval(_VACUUMS))


async def test_the_worker_vacuums_the_queue_only_where_nothing_else_does(database: Database) -> None:
    stop = asyncio.Event()
    running = asyncio.create_task(queue_upkeep.run(database, stop, interval=0.05))
    if not await queue_upkeep.needed(database):  # SQLite, or PostgreSQL's autovacuum on
        await asyncio.wait_for(running, timeout=5)  # returns at once
        assert not writes_with_ctes(database) or await database.fetchval(_AUTOVACUUM) == "on"
        return
    before = await vacuums(database)
    for _ in range(100):
        await asyncio.sleep(0.05)
        if await vacuums(database) > before:
            break
    stop.set()
    await asyncio.wait_for(running, timeout=5)
    assert await vacuums(database) > before


@pytest.mark.postgres_only
async def test_a_vacuum_of_the_queue_reclaims_its_dead_rows(database: Database) -> None:
    async with database.transaction() as connection:
        await connection.execute(
            sql(
                "",
                postgres="INSERT INTO jobs (kind, payload, run_at_us, attempts, created_at_us) "
                "SELECT 'upkeep', '{}', 0, 0, 0 FROM generate_series(1, 2000)",
            )
        )
        await connection.execute(sql("DELETE FROM jobs WHERE kind = 'upkeep'"))
    before = await vacuums(database)
    await queue_upkeep.vacuum(database)
    assert await vacuums(database) == before + 1
