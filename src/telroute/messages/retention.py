"""Retention: messages older than `Settings.retention_us` (TELROUTE_RETENTION_DAYS; sandbox 7 days,
production off) are deleted by the worker with their receipts, carrier ids, media and reply links, and
callback tries older than that too. In small batches (TELROUTE_RETENTION_BATCH, 500), each its own short
transaction with a pause after it (TELROUTE_RETENTION_PAUSE, 0.05 s), so that pruning never holds locks
the API waits on for long (benchmarks/retention_stall.py measures it). The age is measured on `Deps.clock`,
so the sandbox's virtual clock moves it.

Messages are deleted oldest first, so what stays of an account is a run of consecutive positions and the
MDR pages stay exact."""

from __future__ import annotations

import asyncio
import contextlib
import json

import structlog

from telroute.bootstrap import Deps
from telroute.kit.db import Connection, sql

log = structlog.get_logger("telroute.retention")

_OLDEST = sql("SELECT id FROM messages WHERE created_at_us < :cutoff ORDER BY created_at_us LIMIT :limit")
_IDS_SQLITE = "SELECT value FROM json_each(:ids)"
_IDS_POSTGRES = "SELECT jsonb_array_elements_text(CAST(:ids AS jsonb))::bigint"
_DELETE_MESSAGES = tuple(
    sql(statement.format(ids=_IDS_SQLITE), postgres=statement.format(ids=_IDS_POSTGRES))
    for statement in (
        "DELETE FROM receipts WHERE message_id IN ({ids})",
        "DELETE FROM carrier_message_ids WHERE message_id IN ({ids})",
        "DELETE FROM media WHERE message_id IN ({ids})",
        "DELETE FROM message_replies WHERE message_id IN ({ids}) OR reply_to_id IN ({ids})",
        "DELETE FROM messages WHERE id IN ({ids})",
    )
)
_DELETE_ATTEMPTS = sql(
    """DELETE FROM webhook_attempts WHERE id IN
       (SELECT id FROM webhook_attempts WHERE created_at_us < :cutoff ORDER BY created_at_us LIMIT :limit)"""
)


async def _message_batch(connection: Connection, cutoff: int, size: int) -> int:
    rows = await connection.fetch(_OLDEST, {"cutoff": cutoff, "limit": size})
    if rows:
        ids = json.dumps([row["id"] for row in rows])
        for statement in _DELETE_MESSAGES:
            await connection.execute(statement, {"ids": ids})
    return len(rows)


async def _attempt_batch(connection: Connection, cutoff: int, size: int) -> int:
    deleted: int = await connection.execute(_DELETE_ATTEMPTS, {"cutoff": cutoff, "limit": size})
    return deleted


async def prune(deps: Deps, retention_us: int) -> int:
    """One round: batches until nothing is older than the retention; how many messages went."""
    total = 0
    size, pause = deps.settings.retention_batch, deps.settings.retention_pause
    for batch in (_message_batch, _attempt_batch):
        while True:
            async with deps.db.transaction() as connection:
                count = await batch(connection, deps.clock() - retention_us, size)
            total += count if batch is _message_batch else 0
            if count < size:
                break
            await asyncio.sleep(pause)
    return total


async def run(deps: Deps, stop: asyncio.Event) -> None:
    """Prune every `retention_interval` seconds until `stop` (nothing when retention is off)."""
    retention_us = deps.settings.retention_us
    if retention_us is None:
        return
    while not stop.is_set():
        try:
            pruned = await prune(deps, retention_us)
            if pruned:
                log.info("messages pruned", count=pruned, older_than_days=retention_us / 86_400_000_000)
        except Exception as exc:  # the database away: the next round tries again
            log.warning("pruning failed", error=str(exc))
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), deps.settings.retention_interval)
