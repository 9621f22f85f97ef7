"""The long polls of `GET /sandbox/messages/wait` and `GET /sandbox/callbacks/wait`: answer as soon as a
matching row exists.

No busy loop: between checks it sleeps until this process commits something (`Database.committed`),
and re-checks every `RECHECK_SECONDS` anyway for rows written by other processes (a worker
elsewhere, another API process)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import TypeVar

from telroute.accounts.model import Account
from telroute.kit.db import Connection, Database, Row
from telroute.kit.jsonapi import Page
from telroute.sandbox_tools import callbacks_repository, service
from telroute.sandbox_tools.callbacks_model import CallbackFilters
from telroute.sandbox_tools.model import MessageFilters

RECHECK_SECONDS = 0.5
_FIRST = Page(limit=1, offset=0)
T = TypeVar("T")


async def until_found(
    database: Database, probe: Callable[[Connection], Awaitable[T | None]], timeout: float
) -> T | None:
    """What `probe` finds, once it finds something; None after `timeout` seconds."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        generation = database.committed.generation  # read before the check: a commit after it wakes us
        async with database.snapshot() as connection:
            found = await probe(connection)
        if found is not None:
            return found
        remaining = deadline - loop.time()
        if remaining <= 0:
            return None
        await database.committed.wait_after(generation, min(remaining, RECHECK_SECONDS))


async def first_match(
    database: Database, account: Account, filters: MessageFilters, timeout: float
) -> tuple[Row, list[Row]] | None:
    """The newest message matching `filters`, once one exists; None after `timeout` seconds."""

    async def probe(connection: Connection) -> tuple[Row, list[Row]] | None:
        found, _ = await service.search(connection, account, filters, _FIRST)
        return found[0] if found else None

    return await until_found(database, probe, timeout)


async def first_callback(database: Database, account: Account, filters: CallbackFilters, timeout: float) -> Row | None:
    """The newest callback try matching `filters`, once one exists; None after `timeout` seconds."""

    async def probe(connection: Connection) -> Row | None:
        found = await callbacks_repository.search(connection, account.id, filters, limit=1, offset=0)
        return found[0] if found else None

    return await until_found(database, probe, timeout)
