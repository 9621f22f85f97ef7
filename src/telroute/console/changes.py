"""Across processes on PostgreSQL: each process publishes "something was committed here" on one
channel, at most `PUBLISH_SECONDS` apart, whatever its write rate; each process with a console open
LISTENs on one dedicated connection (`notifier.py`). So a message accepted by another API process,
or a receipt written by a worker elsewhere, reaches a console in well under a second, and a send
never pays for a NOTIFY in its own transaction (NOTIFY serializes commits)."""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from typing import Any

import structlog

from telroute.console import repository
from telroute.kit.db import Database, notifies_across_processes
from telroute.kit.stopping import stopped_within

PUBLISH_SECONDS = 0.1
IDLE_SECONDS = 30.0
log = structlog.get_logger("telroute.console")


async def _first(*waits: Coroutine[Any, Any, object]) -> None:
    tasks = [asyncio.ensure_future(wait) for wait in waits]
    await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
    for task in tasks:
        task.cancel()


async def publish(db: Database, stop: asyncio.Event) -> None:
    """Until `stop`: after each commit of this process (coalesced), one NOTIFY. Nothing on SQLite."""
    if not notifies_across_processes(db):
        return
    signal = db.committed
    generation = signal.generation
    while not stop.is_set():
        await _first(signal.wait_after(generation, IDLE_SECONDS), stop.wait())
        if signal.generation == generation:
            continue
        generation = signal.generation
        try:
            await repository.notify_change(db)
        except Exception:  # the database may be away for a moment; consoles re-check on their own too
            log.debug("could not publish a change for consoles", exc_info=True)
        await stopped_within(stop, PUBLISH_SECONDS)
