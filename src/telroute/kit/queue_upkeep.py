"""The job queue's table kept fit on a PostgreSQL server that runs without autovacuum.

Every job is a row inserted, moved by its claims and deleted: at 1,000 messages a second `jobs` gains some
4,000 dead rows a second. Autovacuum reclaims them; on a server with `autovacuum = off` nothing does, and
every claim walks past more dead entries of the table's indexes (a 10-minute soak at 1,000 msg/s left
3.9 million dead rows and a 1.5 GB table, and delivery fell behind). There a worker vacuums `jobs` itself
every `interval` seconds; `SKIP_LOCKED` lets a worker that finds another's vacuum running skip its turn.
"""

from __future__ import annotations

import asyncio

import structlog

from telroute.kit.db import Database, sql, writes_with_ctes
from telroute.kit.stopping import stopped_within

log = structlog.get_logger("telroute.worker")
_AUTOVACUUM = sql("", postgres="SELECT current_setting('autovacuum') AS setting")
_VACUUM = sql("", postgres="VACUUM (SKIP_LOCKED) jobs")


async def vacuum(database: Database) -> None:
    async with database.alone() as connection:
        await connection.execute(_VACUUM)


async def needed(database: Database) -> bool:
    """On PostgreSQL with autovacuum off."""
    return writes_with_ctes(database) and await database.fetchval(_AUTOVACUUM) != "on"


async def run(database: Database, stop: asyncio.Event, *, interval: float = 10.0) -> None:
    """Vacuum `jobs` every `interval` seconds until `stop`, where it is `needed`."""
    try:
        if not await needed(database):
            return
    except Exception as exc:  # the database away at start: autovacuum's state unknown, vacuum anyway
        log.warning("could not read the server's autovacuum setting", error=str(exc))
    log.info("vacuuming the job queue's table: the server's autovacuum is off", every_seconds=interval)
    while not await stopped_within(stop, interval):
        try:
            await vacuum(database)
        except Exception as exc:  # the database away: the next round tries again
            log.warning("vacuuming the job queue's table failed", error=str(exc))
