"""One query or transaction for many concurrent callers.

The worker runs each claimed job as its own task, so under load a hundred jobs reach the same read (their
message, their account's signing secret) or the same write (the end of their job) within a few
event-loop turns. A `Coalescer` gathers the items submitted while its previous flush is running, or in
the same turn, and hands them to one `flush` call: one statement and one round trip instead of a
hundred. Idle, a lone item is flushed on the next turn, so nothing waits for company, unless the
Coalescer is made to `gather`: then an item reaching an idle Coalescer waits that long for others before
the first flush (for writes whose callers need not hurry and whose transactions cost more than their rows).
Items that arrive while a flush runs join the next flush at once, as without `gather`.

Each caller gets its own item's result, or the flush's exception: a failed flush fails every caller
in it, as many separate calls would have failed together.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Generic, TypeVar

Item = TypeVar("Item")
Result = TypeVar("Result")

Flush = Callable[[Sequence[Item]], Awaitable[Sequence[Result]]]


class Coalescer(Generic[Item, Result]):
    def __init__(self, flush: Flush[Item, Result], *, limit: int = 500, gather: float = 0.0) -> None:
        """`flush(items)` returns one result per item, in order; at most `limit` items go to one flush.
        `gather`: seconds an item reaching an idle Coalescer waits for others (none: the rest of its turn)."""
        self._flush = flush
        self._limit = limit
        self._gather = gather
        self._pending: list[tuple[Item, asyncio.Future[Result]]] = []
        self._draining: asyncio.Task[None] | None = None
        self.flushes = 0  # flushes run, for the tests and for metrics

    @property
    def idle(self) -> bool:
        """Nothing submitted waits or is being flushed."""
        return self._draining is None and not self._pending

    async def submit(self, item: Item) -> Result:
        future: asyncio.Future[Result] = asyncio.get_running_loop().create_future()
        self._pending.append((item, future))
        if self._draining is None:
            self._draining = asyncio.create_task(self._drain())
        return await future

    async def _drain(self) -> None:
        try:
            await asyncio.sleep(self._gather)  # callers of this same turn (or moment) join the first flush
            while self._pending:
                batch, self._pending = self._pending[: self._limit], self._pending[self._limit :]
                await self._run(batch)
        except asyncio.CancelledError:  # the loop is shutting down: nobody waits forever
            for _, future in self._pending:
                future.cancel()
            self._pending = []
            raise
        finally:
            self._draining = None

    async def _run(self, batch: list[tuple[Item, asyncio.Future[Result]]]) -> None:
        self.flushes += 1
        try:
            results = await self._flush([item for item, _ in batch])
            if len(results) != len(batch):
                raise RuntimeError(f"a flush of {len(batch)} items returned {len(results)} results")
        except asyncio.CancelledError:
            for _, future in batch:
                future.cancel()
            raise
        except Exception as exc:
            for _, future in batch:
                if not future.done():
                    future.set_exception(exc)
            return
        for (_, future), result in zip(batch, results, strict=True):
            if not future.done():  # its caller was cancelled; the flush ran for it all the same
                future.set_result(result)


Key = TypeVar("Key")
Value = TypeVar("Value")


def lookup(
    read: Callable[[list[Key]], Awaitable[Mapping[Key, Value]]], *, limit: int = 500
) -> Coalescer[Key, Value | None]:
    """A Coalescer of reads by key: each flush reads its distinct keys once (`read` returns what it found, by
    key), and a caller whose key was not found gets None."""

    async def flush(keys: Sequence[Key]) -> list[Value | None]:
        found = await read(list(dict.fromkeys(keys)))
        return [found.get(key) for key in keys]

    return Coalescer(flush, limit=limit)
