"""At most N requests in flight per origin (scheme, host, port), with a short, bounded queue behind them.

A request waits for a slot apart from its own timeout, which starts once it holds one: a queue at
our side never makes a request time out after the receiver got it (and so be sent twice). A full
queue, or a wait longer than `wait` seconds, raises `OriginBusy` at once: the caller gives its work
back for later instead of holding a worker's job slot while one slow receiver drains.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from urllib.parse import urlsplit


class OriginBusy(Exception):
    """No slot for this origin came free in time; nothing was sent."""


def origin_of(url: str) -> tuple[str, str, int]:
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    return scheme, (parts.hostname or "").lower(), parts.port or (443 if scheme == "https" else 80)


class _Gate:
    def __init__(self, size: int) -> None:
        self.semaphore = asyncio.Semaphore(size)
        self.users = 0  # holding a slot or waiting for one


class OriginSlots:
    def __init__(self, per_origin: int, *, queue: int, wait: float) -> None:
        if per_origin < 1:
            raise ValueError("per_origin must be at least 1")
        self.per_origin = per_origin
        self._queue = queue
        self._wait = wait
        self._gates: dict[tuple[str, str, int], _Gate] = {}

    def in_use(self, url: str) -> int:
        """Requests holding or waiting for a slot of this URL's origin."""
        gate = self._gates.get(origin_of(url))
        return 0 if gate is None else gate.users

    @asynccontextmanager
    async def slot(self, url: str) -> AsyncIterator[None]:
        origin = origin_of(url)
        gate = self._gates.setdefault(origin, _Gate(self.per_origin))
        if gate.users >= self.per_origin + self._queue:
            raise OriginBusy(f"{self.per_origin} requests in flight and {self._queue} waiting")
        gate.users += 1
        try:
            await self._acquire(gate)
            try:
                yield
            finally:
                gate.semaphore.release()
        finally:
            gate.users -= 1
            if gate.users == 0:
                self._gates.pop(origin, None)

    async def _acquire(self, gate: _Gate) -> None:
        try:
            async with asyncio.timeout(self._wait):
                await gate.semaphore.acquire()
        except TimeoutError:
            raise OriginBusy(f"no connection came free within {self._wait:g} s") from None
