"""At most N requests in flight per origin (scheme, host, port), with a short, bounded queue behind them.

A request waits for a slot apart from its own timeout, which starts once it holds one: a queue at
our side never makes a request time out after the receiver got it (and so be sent twice). A full
queue, or a wait longer than `wait` seconds, raises `OriginBusy` at once: the caller gives its work
back for later instead of holding a worker's job slot while one slow receiver drains.

`OriginBusy.retry_after` spreads the work given back over the time the origin needs to serve it (its
recent time per request / N apart), so a backlog of thousands for a hanging receiver comes back a
few at a time instead of being claimed and refused again in a tight loop.

The queue is `queue` long, or longer for an origin fast enough to serve everyone in it within
`QUEUE_DRAIN_SECONDS` at its recent pace: a receiver that answers in a millisecond or two would
otherwise have most of a busy worker's callbacks given back and claimed again (measured: 0.7 of a
transaction per message), while a slow or hanging one still holds at most `queue` waiting.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from functools import lru_cache
from urllib.parse import urlsplit

RETRY_SOONEST = 0.5
RETRY_LATEST = 60.0
ASSUMED_SECONDS_PER_REQUEST = 0.05  # until a slower pace is seen: before the first requests end, it is unknown
KEEP_ORIGINS = 4096  # idle origins remembered (for their pace) before the idle ones are forgotten
QUEUE_DRAIN_SECONDS = 0.05  # a queue the origin serves within this long may be longer than the base queue


class OriginBusy(Exception):
    """No slot for this origin came free in time; nothing was sent. Try again after `retry_after` s."""

    def __init__(self, reason: str, *, retry_after: float) -> None:
        super().__init__(reason)
        self.retry_after = retry_after


@lru_cache(maxsize=4096)  # callbacks go to the same few URLs over and over
def origin_of(url: str) -> tuple[str, str, int]:
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    return scheme, (parts.hostname or "").lower(), parts.port or (443 if scheme == "https" else 80)


class _Gate:
    def __init__(self, size: int) -> None:
        self.semaphore = asyncio.Semaphore(size)
        self.users = 0  # holding a slot or waiting for one
        self.average_hold = 0.0  # a moving average of how long a slot is held
        self.holding_since: list[float] = []  # when each current holder took its slot
        self.comeback_at = 0.0  # monotonic time the last refused request was told to come back

    def hold(self) -> float:
        self.holding_since.append(time.monotonic())
        return self.holding_since[-1]

    def let_go(self, since: float) -> None:
        self.holding_since.remove(since)
        held = time.monotonic() - since
        self.average_hold = held if self.average_hold == 0.0 else 0.8 * self.average_hold + 0.2 * held

    def seconds_per_request(self, now: float) -> float:
        """The recent time a request holds its slot; at least as long as the oldest one in flight has
        (a receiver that hangs is known to be slow before its first request times out)."""
        oldest = now - min(self.holding_since) if self.holding_since else 0.0
        return max(self.average_hold, oldest, ASSUMED_SECONDS_PER_REQUEST)

    def queue_room(self, per_origin: int, base: int) -> int:
        """How many may wait: `base`, or as many as `per_origin` slots serve within QUEUE_DRAIN_SECONDS at the
        recent pace (`base` until a request has ended; a request in flight for long slows the pace)."""
        if not self.average_hold:
            return base
        oldest = time.monotonic() - min(self.holding_since) if self.holding_since else 0.0
        return max(base, int(per_origin * QUEUE_DRAIN_SECONDS / max(self.average_hold, oldest)))

    def refuse(self, reason: str, per_origin: int) -> OriginBusy:
        now = time.monotonic()
        spaced = self.comeback_at + self.seconds_per_request(now) / per_origin
        self.comeback_at = min(max(spaced, now + RETRY_SOONEST), now + RETRY_LATEST)
        return OriginBusy(reason, retry_after=self.comeback_at - now)


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
        gate = self._gate(origin_of(url))
        room = gate.queue_room(self.per_origin, self._queue)
        if gate.users >= self.per_origin + room:
            raise gate.refuse(f"{self.per_origin} requests in flight and {room} waiting", self.per_origin)
        gate.users += 1
        try:
            await self._acquire(gate)
            since = gate.hold()
            try:
                yield
            finally:
                gate.let_go(since)
                gate.semaphore.release()
        finally:
            gate.users -= 1

    def _gate(self, origin: tuple[str, str, int]) -> _Gate:
        gate = self._gates.get(origin)
        if gate is None:
            if len(self._gates) >= KEEP_ORIGINS:
                self._gates = {key: value for key, value in self._gates.items() if value.users > 0}
            gate = self._gates[origin] = _Gate(self.per_origin)
        return gate

    async def _acquire(self, gate: _Gate) -> None:
        if not gate.semaphore.locked():  # free: no wait, so no timer (a third of a slot's cost when free)
            await gate.semaphore.acquire()
            return
        try:
            async with asyncio.timeout(self._wait):
                await gate.semaphore.acquire()
        except TimeoutError:
            raise gate.refuse(f"no connection came free within {self._wait:g} s", self.per_origin) from None
