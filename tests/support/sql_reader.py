"""SQL from synchronous tests against a deployment's database.

On PostgreSQL one connection per database is kept, served by one event loop in a thread of the test
process: tests poll their databases thousands of times, and each new connection costs the server a
process. It is closed by `forget` before its database is dropped, and a connection that broke (a test
restarted PostgreSQL) is replaced once. A SQLite file is opened for each call, as before."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Coroutine
from typing import Any, TypeVar

from telroute.kit import db as dbkit
from telroute.kit.db import Database, is_sqlite_url, sql

Rows = list[dict[str, Any]]
T = TypeVar("T")
_ANSWER_TIMEOUT = 120.0

_lock = threading.Lock()
_loop: asyncio.AbstractEventLoop | None = None
_kept: dict[str, Database] = {}


def queries(url: str, statements: list[str], params: dict[str, Any] | None = None) -> list[Rows]:
    """Run `statements` in one transaction; the rows of each."""
    if is_sqlite_url(url):
        return asyncio.run(_on_fresh_connection(url, statements, params))
    return _in_background(_on_kept_connection(url, statements, params))


def forget(url: str) -> None:
    """Close the connection kept to `url`'s database, if any (before the database is dropped)."""
    if url in _kept:
        _in_background(_close(url))


async def _on_fresh_connection(url: str, statements: list[str], params: dict[str, Any] | None) -> list[Rows]:
    database = await dbkit.connect(url, pool_size=1)
    try:
        return await _run(database, statements, params)
    finally:
        await database.close()


async def _on_kept_connection(url: str, statements: list[str], params: dict[str, Any] | None) -> list[Rows]:
    database = _kept.get(url)
    if database is not None:
        try:
            return await _run(database, statements, params)
        except Exception as exc:
            if not dbkit.is_unavailable(exc) and not _connection_lost(exc):
                raise
            await _close(url)  # the server restarted or ended the connection: one more try on a new one
    _kept[url] = database = await dbkit.connect(url, pool_size=1)
    return await _run(database, statements, params)


def _connection_lost(exc: BaseException) -> bool:
    import asyncpg

    return isinstance(exc, asyncpg.exceptions.ConnectionDoesNotExistError | asyncpg.InterfaceError)


async def _run(database: Database, statements: list[str], params: dict[str, Any] | None) -> list[Rows]:
    async with database.transaction() as connection:
        return [[dict(row) for row in await connection.fetch(sql(text), params)] for text in statements]


async def _close(url: str) -> None:
    database = _kept.pop(url, None)
    if database is not None:
        await database.close()


def _in_background(work: Coroutine[Any, Any, T]) -> T:
    return asyncio.run_coroutine_threadsafe(work, _background_loop()).result(timeout=_ANSWER_TIMEOUT)


def _background_loop() -> asyncio.AbstractEventLoop:
    global _loop
    with _lock:
        if _loop is None:
            _loop = asyncio.new_event_loop()
            threading.Thread(target=_loop.run_forever, name="sql-reader", daemon=True).start()
        return _loop
