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
from collections.abc import Awaitable, Callable

import structlog

from telroute.bootstrap import Deps
from telroute.kit.db import Connection
from telroute.kit.stopping import stopped_within
from telroute.messages import retention_repository

log = structlog.get_logger("telroute.retention")

DeleteBatch = Callable[[Connection, int, int], Awaitable[int]]  # (connection, cutoff, limit) -> rows deleted


async def prune(deps: Deps, retention_us: int) -> int:
    """One round: batches until nothing is older than the retention; how many messages went."""
    pruned = await _drain(deps, retention_repository.delete_old_messages, retention_us)
    await _drain(deps, retention_repository.delete_old_attempts, retention_us)
    return pruned


async def _drain(deps: Deps, delete_batch: DeleteBatch, retention_us: int) -> int:
    """`delete_batch` in its own transaction each, a pause after each full one, until one comes back short."""
    total = 0
    size, pause = deps.settings.retention_batch, deps.settings.retention_pause
    while True:
        async with deps.db.transaction() as connection:
            count = await delete_batch(connection, deps.clock() - retention_us, size)
        total += count
        if count < size:
            return total
        await asyncio.sleep(pause)


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
        await stopped_within(stop, deps.settings.retention_interval)
