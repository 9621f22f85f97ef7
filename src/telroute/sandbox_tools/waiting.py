"""The long poll of `GET /sandbox/messages/wait`: answer as soon as a matching message exists.

No busy loop: between checks it sleeps until this process commits something (`Database.committed`),
and re-checks every `RECHECK_SECONDS` anyway for messages written by other processes (a worker
elsewhere, another API process)."""

from __future__ import annotations

import asyncio

from telroute.accounts.model import Account
from telroute.kit.db import Database, Row
from telroute.kit.jsonapi import Page
from telroute.sandbox_tools import service
from telroute.sandbox_tools.model import MessageFilters

RECHECK_SECONDS = 0.5
_FIRST = Page(limit=1, offset=0)


async def first_match(
    database: Database, account: Account, filters: MessageFilters, timeout: float
) -> tuple[Row, list[Row]] | None:
    """The newest message matching `filters`, once one exists; None after `timeout` seconds."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        generation = database.committed.generation  # read before the check: a commit after it wakes us
        async with database.snapshot() as connection:
            found, _ = await service.search(connection, account, filters, _FIRST)
        if found:
            return found[0]
        remaining = deadline - loop.time()
        if remaining <= 0:
            return None
        await database.committed.wait_after(generation, min(remaining, RECHECK_SECONDS))
