"""The database: one small async interface, two drivers.

This is the only module that knows SQLite from PostgreSQL. SQL is written once per query with
`:name` parameters (`Query`); the PostgreSQL spelling (`$1`, `$2`, ...) is derived once at import.
SQLite runs through the stdlib driver on the event loop: its indexed statements take microseconds,
so a thread hop would cost more than it saves. One connection, WAL, and an asyncio lock that
serializes statements and transactions. Code inside a transaction must not await anything but
the transaction's own statements.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import sqlite3
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Mapping, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol, TypeVar

from telroute.errors import ServiceUnavailable
from telroute.kit import json_text, sqlite_lock
from telroute.kit.signal import Signal
from telroute.kit.sqlite_checkpoints import Checkpointer

T = TypeVar("T")
Params = Mapping[str, Any]
Row = Mapping[str, Any]

# A `:name` parameter, or text where a colon is not one: a string literal, a quoted identifier, a comment.
_PARAMETER_OR_QUOTED = re.compile(r"'(?:[^']|'')*'|\"(?:[^\"]|\"\")*\"|--[^\n]*|(?<![:\w]):([A-Za-z_]\w*)")


@dataclass(frozen=True, slots=True)
class Query:
    """One SQL statement, prepared for both drivers. Pass `postgres=` when the spellings differ.

    A list parameter is an array on PostgreSQL (`id = ANY(:ids)`) and, in a SQLite statement that reads it
    with `json_each(:ids)`, a JSON array: `IN (SELECT value FROM json_each(:ids))`."""

    sqlite: str
    postgres: str = ""
    # PostgreSQL plans it afresh at every run instead of keeping a plan per connection: for a statement that
    # joins a batch of rows with tables that grow from empty, a plan kept from when they were small scans them
    # whole once they are large. Costs a round trip and a planning a run: for statements that carry batches.
    planned_each_run: bool = False
    pg_text: str = field(init=False)
    pg_names: tuple[str, ...] = field(init=False)
    sqlite_json: bool = field(init=False)

    def __post_init__(self) -> None:
        names: list[str] = []

        def number(match: re.Match[str]) -> str:
            name = match.group(1)
            if name is None:
                return match.group(0)
            if name not in names:
                names.append(name)
            return f"${names.index(name) + 1}"

        text = _PARAMETER_OR_QUOTED.sub(number, self.postgres or self.sqlite)
        object.__setattr__(self, "pg_text", text)
        object.__setattr__(self, "pg_names", tuple(names))
        object.__setattr__(self, "sqlite_json", "json_each(:" in self.sqlite)

    def pg_args(self, params: Params | None) -> list[Any]:
        values = params or {}
        return [values[name] for name in self.pg_names]


def sql(sqlite: str, postgres: str = "", *, planned_each_run: bool = False) -> Query:
    return Query(sqlite, postgres, planned_each_run)


@dataclass(frozen=True, slots=True)
class Chain:
    """A write that SQLite runs as two statements, the first's row adding to the second's parameters,
    and PostgreSQL as one (`postgres`, a data-modifying WITH): one round trip instead of two. With `last`,
    SQLite runs a third statement that has the second's value as `:chained` (PostgreSQL's WITH holds it too)."""

    first: Query
    then: Query
    postgres: Query
    last: Query | None = None


@dataclass(frozen=True, slots=True)
class Pair:
    """Two writes that need nothing from each other: SQLite runs both, PostgreSQL one statement
    (`postgres`, a data-modifying WITH): one round trip instead of two."""

    first: Query
    second: Query
    postgres: Query


@dataclass(frozen=True, slots=True)
class Guarded:
    """A write, and a second write made only when the first changed rows: SQLite runs them as two statements,
    PostgreSQL as one (`postgres`, a data-modifying WITH whose main statement reads the first's RETURNING, one
    row per changed row). Returns how many rows the first changed."""

    first: Query
    then: Query
    postgres: Query
    also: Query | None = None  # SQLite: a third write made, after `then`, only when the first changed rows
    before: Query | None = None  # SQLite: a write made before the first, whatever the first changes
    # PostgreSQL: the same writes as the CTEs of a larger statement, the first named `moved` (`jobs.end_after`).
    ctes: str = ""


@dataclass(slots=True)
class StatementCount:
    """SQL statements this process sent to its database, and transactions it committed (per `Database`).

    Counted where the statement is issued, so the count is deterministic: the benchmark and a test read
    it to say how many statements a delivered message costs. SQLite's BEGIN/SAVEPOINT/COMMIT are not
    statements here; `transactions` counts units of work (on SQLite each a savepoint of a group commit).
    """

    statements: int = 0
    transactions: int = 0


class Connection(Protocol):
    async def fetch(self, query: Query, params: Params | None = None) -> list[Row]: ...

    async def fetchrow(self, query: Query, params: Params | None = None) -> Row | None: ...

    async def fetchval(self, query: Query, params: Params | None = None) -> Any: ...

    async def execute(self, query: Query, params: Params | None = None) -> int: ...

    async def executemany(self, query: Query, rows: Iterable[Params]) -> None: ...

    async def fetchval_chain(self, chain: Chain, params: Params) -> Any: ...

    async def execute_pair(self, pair: Pair, params: Params) -> None: ...

    async def execute_guarded(self, guarded: Guarded, params: Params) -> int: ...


class Database(Connection, Protocol):
    url: str
    committed: Signal  # fires after every commit of this process
    counted: StatementCount

    def transaction(self) -> AbstractAsyncContextManager[Connection]: ...

    def snapshot(self) -> AbstractAsyncContextManager[Connection]: ...  # reads that all see one moment

    # A connection for one statement (a Chain, Pair or Guarded counts as one) that is a transaction of its own:
    # on PostgreSQL without BEGIN and COMMIT.
    def alone(self) -> AbstractAsyncContextManager[Connection]: ...

    async def close(self) -> None: ...


def _column_names(cursor: sqlite3.Cursor) -> list[str]:
    return [column[0] for column in cursor.description]


def _dict_rows(cursor: sqlite3.Cursor) -> list[Row]:
    """Rows as dicts, the column names read once per statement (a row factory would read them per row)."""
    rows = cursor.fetchall()
    if not rows:
        return []
    names = _column_names(cursor)
    return [dict(zip(names, row, strict=True)) for row in rows]


class _SqliteStatements:
    """Statement methods over one sqlite3 connection; callers hold the lock."""

    def __init__(self, raw: sqlite3.Connection, counted: StatementCount) -> None:
        self._raw = raw
        self._counted = counted

    def _run(self, query: Query, params: Params | None) -> sqlite3.Cursor:
        self._counted.statements += 1
        if query.sqlite_json and params:
            params = {name: _json_list(value) for name, value in params.items()}
        return self._raw.execute(query.sqlite, params or {})

    async def fetch(self, query: Query, params: Params | None = None) -> list[Row]:
        return _dict_rows(self._run(query, params))

    async def fetchrow(self, query: Query, params: Params | None = None) -> Row | None:
        cursor = self._run(query, params)
        row = cursor.fetchone()
        return None if row is None else dict(zip(_column_names(cursor), row, strict=True))

    async def fetchval(self, query: Query, params: Params | None = None) -> Any:
        row = self._run(query, params).fetchone()
        return None if row is None else row[0]

    async def execute(self, query: Query, params: Params | None = None) -> int:
        return self._run(query, params).rowcount

    async def executemany(self, query: Query, rows: Iterable[Params]) -> None:
        self._counted.statements += 1
        self._raw.executemany(query.sqlite, rows)

    async def fetchval_chain(self, chain: Chain, params: Params) -> Any:
        first = await self.fetchrow(chain.first, params)
        assert first is not None, "a Chain's first statement returns a row"
        value = await self.fetchval(chain.then, {**params, **first})
        if chain.last is not None:
            await self.execute(chain.last, {**params, "chained": value})
        return value

    async def execute_pair(self, pair: Pair, params: Params) -> None:
        await self.execute(pair.first, params)
        await self.execute(pair.second, params)

    async def execute_guarded(self, guarded: Guarded, params: Params) -> int:
        if guarded.before is not None:
            await self.execute(guarded.before, params)
        changed = await self.execute(guarded.first, params)
        if changed:
            await self.execute(guarded.then, params)
            if guarded.also is not None:
                await self.execute(guarded.also, params)
        return changed


def _json_list(value: Any) -> Any:
    return json_text.dumps(value) if isinstance(value, list | tuple) else value


class SqliteDatabase:
    """SQLite, each transaction a SAVEPOINT of a write transaction committed as soon as nobody needs it open.

    A unit that ends while no other unit waits for the connection's lock commits at once, on the event
    loop's thread; a unit waiting for the lock meanwhile joins the open write transaction, and the last of
    them commits it (or the 500th). The write lock is held for the statements and one COMMIT and no longer:
    while this process holds it no other process can write (`serve`'s worker, a worker beside
    `serve --no-worker`). Kept open to the end of the loop's turn and committed in a thread, as before, it
    was held 2 to 5 ms a transaction (p50) against 0.6 to 2 ms now, and accepted sends rose from 1,800 to
    2,600-3,300/s with `serve`'s worker apart (docs/performance.md, eleventh step). Checkpoints run in a
    thread of their own (`kit/sqlite_checkpoints.py`), never inside a COMMIT. A unit that fails rolls
    back to its savepoint alone. A caller leaves `transaction()` only after the COMMIT that holds its
    work, so "committed" still means in the database file. A COMMIT that fails (the disk is full) fails
    every unit of its group. A unit that fails also returns only after the COMMIT of the work it saw.
    """

    _GROUP_MAX = 500
    # How long a transaction waits for another process's write lock (SQLite's busy timeout for the rest),
    # and the first and longest pause between its tries. The pauses are short because the lock is not fair:
    # a process that holds it for its group commits takes it back within a millisecond of each COMMIT, and
    # one that paused up to 20 ms kept missing those moments (sends' p99 130 to 170 ms against 40 to 50 ms
    # with the API and the worker as two processes; a try costs about 6 us).
    _LOCK_TIMEOUT = 30.0
    _BUSY_TIMEOUT = f"PRAGMA busy_timeout = {int(_LOCK_TIMEOUT * 1000)}"
    _FIRST_PAUSE, _LONGEST_PAUSE = 0.0002, 0.001

    def __init__(self, url: str, path: Path) -> None:
        self.url = url
        path.parent.mkdir(parents=True, exist_ok=True)
        self._in_use = sqlite_lock.hold_shared(path)
        try:
            raw = sqlite3.connect(path, isolation_level=None, check_same_thread=False, timeout=self._LOCK_TIMEOUT)
        except BaseException:
            sqlite_lock.release(self._in_use)
            raise
        pragmas = (
            "journal_mode=WAL",
            "synchronous=NORMAL",
            "foreign_keys=ON",
            "cache_size=-16384",
            "temp_store=MEMORY",
            "wal_autocheckpoint=0",  # checkpoints run in `self._checkpoints`'s thread, never inside a COMMIT
        )
        for pragma in pragmas:
            raw.execute(f"PRAGMA {pragma}")
        raw.execute(self._BUSY_TIMEOUT)
        self._raw = raw
        self._checkpoints = Checkpointer(path)
        self._checkpoints.start()
        self.counted = StatementCount()
        self._statements = _SqliteStatements(raw, self.counted)
        self._lock = asyncio.Lock()
        self._waiting = 0
        self._group: asyncio.Future[None] | None = None
        self._group_units = 0
        self._flush_scheduled = False
        self._data_version: int | None = None  # as read in this event-loop turn
        self.committed = Signal()

    def data_version(self) -> int:
        """Moves when another connection commits to this file (this connection's own commits leave it). Read
        once per event-loop turn: the caches that follow it all look at the start of every request."""
        if self._data_version is not None:
            return self._data_version
        self.counted.statements += 1
        version = int(self._raw.execute("PRAGMA data_version").fetchone()[0])
        try:
            asyncio.get_running_loop().call_soon(self._forget_data_version)
        except RuntimeError:  # no loop: nothing would forget it
            return version
        self._data_version = version
        return version

    def _forget_data_version(self) -> None:
        self._data_version = None

    async def _acquire(self) -> None:
        self._waiting += 1
        try:
            await self._lock.acquire()
        finally:
            self._waiting -= 1

    def _release(self) -> None:
        if self._group is not None:
            if self._group_units >= self._GROUP_MAX or not self._waiting:
                self._commit_group()
            elif not self._flush_scheduled:  # in case every unit waiting now is cancelled before its turn
                self._flush_scheduled = True
                asyncio.get_running_loop().call_soon(self._flush)
        self._lock.release()

    def _flush(self) -> None:
        """Runs between tasks: commits a group that nobody is in or waiting to join."""
        self._flush_scheduled = False
        if self._group is None:
            return
        if self._lock.locked() or self._waiting:
            self._flush_scheduled = True
            asyncio.get_running_loop().call_soon(self._flush)
            return
        self._commit_group()

    def _commit_group(self) -> None:
        self._committed(self._commit())

    def _commit(self) -> BaseException | None:
        """COMMIT: what it raised (SQLITE_FULL, an I/O error), if anything."""
        try:
            self._raw.execute("COMMIT")
        except BaseException as exc:
            return exc
        return None

    def _committed(self, error: BaseException | None) -> None:
        """The group's COMMIT is over: its units are answered, or fail with `error`."""
        if error is not None:  # SQLITE_FULL, an I/O error: no unit of the group is in the file
            self._abandon_group(error)
            return
        group = self._group
        assert group is not None
        self._group, self._group_units = None, 0
        group.set_result(None)
        self.committed.fire()

    def _undo_unit(self, exc: BaseException) -> None:
        """Roll a failed unit back to its savepoint. After SQLITE_FULL or an I/O error SQLite may have
        rolled the whole group back by itself, or may refuse the partial rollback: then the group is lost,
        and every unit in it fails, so that nobody is answered for work that is not in the file."""
        try:
            if self._raw.in_transaction:
                self._raw.execute("ROLLBACK TO unit")
                self._raw.execute("RELEASE unit")
                return
        except sqlite3.Error:
            pass
        self._abandon_group(exc)

    def _abandon_group(self, exc: BaseException) -> None:
        group, units = self._group, self._group_units
        self._group, self._group_units = None, 0
        with contextlib.suppress(sqlite3.Error):
            if self._raw.in_transaction:
                self._raw.execute("ROLLBACK")
        if group is not None and not group.done():
            if units:
                group.set_exception(exc)
            else:
                group.set_result(None)

    async def _open_group(self) -> asyncio.Future[None]:
        """The open group, begun if need be. Called with the lock held; returns with it held, raises with it
        given back. While another process (a worker, `telroute inventory import`) holds SQLite's write lock,
        the wait does not stop the event loop, as SQLite's busy handler would: the lock is given back (reads
        and the rest of the process go on), and the write lock is tried again after a pause, for at most
        `_LOCK_TIMEOUT` seconds."""
        held, pause, deadline = True, self._FIRST_PAUSE, time.monotonic() + self._LOCK_TIMEOUT
        try:
            while self._group is None:
                if self._begin_if_free():
                    self._group = asyncio.get_running_loop().create_future()
                    break
                if time.monotonic() >= deadline:
                    raise sqlite3.OperationalError("database is locked")
                self._lock.release()
                held = False
                await asyncio.sleep(pause)
                await self._acquire()
                held = True
                pause = min(2 * pause, self._LONGEST_PAUSE)
        except BaseException:
            if held:
                self._release()
            raise
        return self._group

    def _begin_if_free(self) -> bool:
        """BEGIN IMMEDIATE without waiting: False when another connection holds the write lock."""
        self._raw.execute("PRAGMA busy_timeout = 0")
        try:
            self._raw.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError as exc:
            if getattr(exc, "sqlite_errorcode", None) == sqlite3.SQLITE_BUSY:
                return False
            raise
        finally:
            self._raw.execute(self._BUSY_TIMEOUT)
        return True

    async def _read(self, action: Callable[[], Awaitable[T]]) -> T:
        await self._acquire()
        try:
            return await action()
        finally:
            self._release()

    async def fetch(self, query: Query, params: Params | None = None) -> list[Row]:
        return await self._read(lambda: self._statements.fetch(query, params))

    async def fetchrow(self, query: Query, params: Params | None = None) -> Row | None:
        return await self._read(lambda: self._statements.fetchrow(query, params))

    async def fetchval(self, query: Query, params: Params | None = None) -> Any:
        return await self._read(lambda: self._statements.fetchval(query, params))

    async def execute(self, query: Query, params: Params | None = None) -> int:
        async with self.transaction() as connection:
            return await connection.execute(query, params)

    async def executemany(self, query: Query, rows: Iterable[Params]) -> None:
        async with self.transaction() as connection:
            await connection.executemany(query, rows)

    async def fetchval_chain(self, chain: Chain, params: Params) -> Any:
        async with self.transaction() as connection:
            return await connection.fetchval_chain(chain, params)

    async def execute_pair(self, pair: Pair, params: Params) -> None:
        async with self.transaction() as connection:
            await connection.execute_pair(pair, params)

    async def execute_guarded(self, guarded: Guarded, params: Params) -> int:
        async with self.transaction() as connection:
            return await connection.execute_guarded(guarded, params)

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[Connection]:
        await self._acquire()
        group = await self._open_group()
        try:
            self._raw.execute("SAVEPOINT unit")
            try:
                yield self._statements
            except BaseException as exc:
                self._undo_unit(exc)
                raise
            self._raw.execute("RELEASE unit")
            self._group_units += 1
            self.counted.transactions += 1
        except Exception:
            self._release()
            await self._settled(group)
            raise
        except BaseException:
            self._release()
            raise
        self._release()
        await asyncio.shield(group)

    @asynccontextmanager
    async def snapshot(self) -> AsyncIterator[Connection]:
        """Statements run back to back under the lock, so they see one state without a transaction."""
        await self._acquire()
        try:
            yield self._statements
        finally:
            self._release()

    def alone(self) -> AbstractAsyncContextManager[Connection]:
        """A unit of the group commit, like `transaction` (SQLite has no cheaper way to write one statement)."""
        return self.transaction()

    @staticmethod
    async def _settled(group: asyncio.Future[None] | None) -> None:
        """A failed unit may have failed because of the open group's work (a purchase refused: a rival
        bought the number a moment ago). It raises only once that work is in the file, so that no
        refusal rests on writes that a crash a moment later would erase."""
        if group is not None:
            with contextlib.suppress(Exception):
                await asyncio.shield(group)

    async def close(self) -> None:
        await self._acquire()
        if self._group is not None:
            self._commit_group()
        self._checkpoints.stop()
        self._raw.close()
        sqlite_lock.release(self._in_use)
        self._lock.release()


class _PostgresStatements:
    def __init__(self, target: Any, counted: StatementCount, *, alone: bool = False) -> None:
        self._target = target  # an asyncpg Pool or Connection: the same methods
        self._counted = counted
        self._alone = alone  # outside a transaction on purpose (`Database.alone`): one statement only
        self.issued = False

    def _count(self) -> None:
        if self._alone and self.issued:
            raise RuntimeError("Database.alone() runs one statement; use transaction() for several")
        self.issued = True
        self._counted.statements += 1

    async def fetch(self, query: Query, params: Params | None = None) -> list[Row]:
        self._count()
        if query.planned_each_run:
            return await _fetch_planned_now(self._target, query.pg_text, query.pg_args(params))
        rows: list[Row] = await self._target.fetch(query.pg_text, *query.pg_args(params))
        return rows

    async def fetchrow(self, query: Query, params: Params | None = None) -> Row | None:
        self._count()
        row: Row | None = await self._target.fetchrow(query.pg_text, *query.pg_args(params))
        return row

    async def fetchval(self, query: Query, params: Params | None = None) -> Any:
        self._count()
        return await self._target.fetchval(query.pg_text, *query.pg_args(params))

    async def execute(self, query: Query, params: Params | None = None) -> int:
        self._count()
        status: str = await self._target.execute(query.pg_text, *query.pg_args(params))
        tail = status.rsplit(" ", 1)[-1]
        return int(tail) if tail.isdigit() else 0

    async def executemany(self, query: Query, rows: Iterable[Params]) -> None:
        self._count()
        await self._target.executemany(query.pg_text, [query.pg_args(row) for row in rows])

    async def fetchval_chain(self, chain: Chain, params: Params) -> Any:
        return await self.fetchval(chain.postgres, params)

    async def execute_pair(self, pair: Pair, params: Params) -> None:
        await self.execute(pair.postgres, params)

    async def execute_guarded(self, guarded: Guarded, params: Params) -> int:
        return await self.execute(guarded.postgres, params)


async def _fetch_planned_now(target: Any, text: str, args: list[Any]) -> list[Row]:
    """A statement prepared for this run alone: PostgreSQL plans its first runs for their parameters and the
    tables as they are (asyncpg closes the statement once it is dropped)."""
    if not hasattr(target, "prepare"):  # a pool
        async with target.acquire() as connection:
            return await _fetch_planned_now(connection, text, args)
    statement = await target.prepare(text)
    rows: list[Row] = await statement.fetch(*args)
    return rows


class PostgresDatabase(_PostgresStatements):
    def __init__(self, url: str, pool: Any) -> None:
        self.counted = StatementCount()
        super().__init__(pool, self.counted)
        self.url = url
        self._pool = pool
        self.committed = Signal()

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[Connection]:
        async with self._pool.acquire() as connection, connection.transaction():
            yield _PostgresStatements(connection, self.counted)
        self.counted.transactions += 1
        self.committed.fire()

    async def executemany(self, query: Query, rows: Iterable[Params]) -> None:
        async with self.transaction() as connection:
            await connection.executemany(query, rows)

    @asynccontextmanager
    async def snapshot(self) -> AsyncIterator[Connection]:
        """A read-only REPEATABLE READ transaction: a message and its receipts from the same moment."""
        async with (
            self._pool.acquire() as connection,
            connection.transaction(isolation="repeatable_read", readonly=True),
        ):
            yield _PostgresStatements(connection, self.counted)

    @asynccontextmanager
    async def alone(self) -> AsyncIterator[Connection]:
        """A connection for one statement, committed on its own without BEGIN and COMMIT: one round trip where
        a transaction takes three (a data-modifying WITH can hold a whole write). A second one raises."""
        async with self._pool.acquire() as connection:
            statements = _PostgresStatements(connection, self.counted, alone=True)
            try:
                yield statements
            finally:
                if statements.issued:  # committed by itself, even if the block raised after it
                    self.counted.transactions += 1
                    self.committed.fire()

    async def close(self) -> None:
        await self._pool.close()


def is_sqlite_url(url: str) -> bool:
    return url.startswith("sqlite:///")


def sqlite_path(url: str) -> Path:
    return Path(url.removeprefix("sqlite:///"))


def sqlite_online_copy(source: Path, target: Path) -> None:
    """Copy the SQLite database `source` into the new file `target` with SQLite's online backup API, in one
    step: one read transaction, so the copy is the database at one moment even while other processes write
    to it (a WAL reader does not block writers). The copy is left in rollback-journal mode: one file."""
    with (
        contextlib.closing(sqlite3.connect(source, timeout=30.0)) as origin,
        contextlib.closing(sqlite3.connect(target)) as copy,
    ):
        origin.backup(copy)
        copy.execute("PRAGMA journal_mode=DELETE")


def sqlite_integrity(path: Path) -> str:
    """What `PRAGMA integrity_check` says of the file at `path` ("ok" when nothing is wrong); raises
    sqlite3.DatabaseError when it is not a SQLite database."""
    with contextlib.closing(sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)) as connection:
        return "; ".join(str(row[0]) for row in connection.execute("PRAGMA integrity_check").fetchall())


async def _session_unchanged(connection: Any) -> None:
    """Pool release hook. telroute leaves no session state behind (advisory locks are transaction-
    scoped; no LISTEN, no SET), so asyncpg's default reset query, a round trip on every release, has
    nothing to undo. asyncpg still rolls back a transaction left open before calling this."""


async def connect(url: str, *, pool_size: int = 10) -> Database:
    if is_sqlite_url(url):
        return SqliteDatabase(url, sqlite_path(url))
    import asyncpg

    try:
        pool = await asyncpg.create_pool(
            url, min_size=1, max_size=pool_size, command_timeout=30, reset=_session_unchanged
        )
    except (OSError, asyncpg.PostgresError) as exc:
        raise ServiceUnavailable(f"database unreachable: {exc}") from exc
    return PostgresDatabase(url, pool)


# Locked (busy beyond the timeout), the file gone or unreadable, I/O errors, and SQLITE_FULL: the disk
# is full. None of them says anything about the request; each passes once the operator acts.
_SQLITE_UNAVAILABLE = ("locked", "unable to open", "disk I/O", "database or disk is full")


def is_unavailable(exc: BaseException) -> bool:
    """True for errors that mean the database is briefly out of reach (answer 503, retry later)."""
    if isinstance(exc, sqlite3.OperationalError):
        return any(sign in str(exc) for sign in _SQLITE_UNAVAILABLE)
    if isinstance(exc, OSError | ConnectionError):
        return True
    try:
        import asyncpg
    except ImportError:  # pragma: no cover
        return False
    # InternalClientError: a pooled connection whose server session was ended under it.
    lost = asyncpg.PostgresConnectionError | asyncpg.InterfaceError | asyncpg.exceptions.InternalClientError
    if isinstance(exc, lost | TimeoutError):
        return True
    # 08: connection exceptions; 57P0x: shutdown, crash recovery, cannot connect now;
    # 55000 here: "database is not currently accepting connections".
    state = str(getattr(exc, "sqlstate", "") or "")
    return state.startswith("08") or state in {"57P01", "57P02", "57P03", "55000"}


def placeholders(prefix: str, count: int) -> str:
    """`:p0, :p1, ...` for an IN list of `count` values."""
    return ", ".join(f":{prefix}{index}" for index in range(count))


def in_params(prefix: str, values: Sequence[Any]) -> dict[str, Any]:
    return {f"{prefix}{index}": value for index, value in enumerate(values)}


_ADVISORY_LOCK = sql("SELECT 1", postgres="SELECT pg_advisory_xact_lock(:key)")


async def lock_for_transaction(connection: Connection, key: int) -> None:
    """Serialize this transaction with others taking the same key (SQLite transactions already are)."""
    await connection.fetchval(_ADVISORY_LOCK, {"key": key})


def database_error_types() -> tuple[type[Exception], ...]:
    """Exception classes that can mean "the database is briefly out of reach" (see `is_unavailable`),
    for handlers that answer 503 without the error escaping as a 500."""
    import asyncpg

    return (
        sqlite3.OperationalError,
        OSError,
        TimeoutError,
        asyncpg.PostgresError,
        asyncpg.InterfaceError,
        asyncpg.exceptions.InternalClientError,
    )


def notifies_across_processes(database: Database) -> bool:
    """True on PostgreSQL, whose LISTEN/NOTIFY reaches every process of a deployment (see `listen`)."""
    return isinstance(database, PostgresDatabase)


def on_postgres(connection: Connection) -> bool:
    """Whether `connection` (a database, or one of its transactions) is PostgreSQL's."""
    return isinstance(connection, _PostgresStatements)


def writes_with_ctes(database: Database) -> bool:
    """True on PostgreSQL, where a data-modifying WITH makes several writes one statement (`Database.alone`)."""
    return on_postgres(database)


def batch_unit(database: Database) -> AbstractAsyncContextManager[Connection]:
    """Where a batch's writes run: on PostgreSQL one statement alone (`writes_with_ctes`); on SQLite a
    statement per write, in one transaction."""
    return database.alone() if writes_with_ctes(database) else database.transaction()


def data_version_of(database: Database) -> Callable[[], int] | None:
    """SQLite only: a number that moves whenever another connection (another process) commits to the database
    file (`PRAGMA data_version`, counted as a statement). None on PostgreSQL: `listen` serves there."""
    if not isinstance(database, SqliteDatabase):
        return None
    return database.data_version


_NOTIFY = sql("SELECT 1", postgres="SELECT pg_notify(:channel, '')")


async def notify(connection: Connection, channel: str) -> None:
    """PostgreSQL: every process LISTENing on `channel` (`listen`) hears of it when this transaction commits.
    On SQLite a no-op (its processes look at `data_version_of` instead)."""
    await connection.fetchval(_NOTIFY, {"channel": channel})


async def listen(
    database: Database, channel: str, on_notify: Callable[[], None], *, on_lost: Callable[[], None] | None = None
) -> Callable[[], Awaitable[None]]:
    """PostgreSQL only: one dedicated connection LISTENing on `channel`, calling `on_notify` for each
    notification of any process, and `on_lost` if the connection ends without being closed. Returns the
    function that closes it. (Pooled connections never LISTEN: `_session_unchanged` relies on it.)"""
    assert isinstance(database, PostgresDatabase), "LISTEN needs PostgreSQL"
    import asyncpg

    connection = await asyncpg.connect(database.url)
    await connection.add_listener(channel, lambda *_: on_notify())
    if on_lost is not None:
        connection.add_termination_listener(lambda *_: on_lost())
    close: Callable[[], Awaitable[None]] = connection.close
    return close
