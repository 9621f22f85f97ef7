"""Pacing of submits: a link's maximum rate, and the pause after the SMSC says it is throttled."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

Clock = Callable[[], float]


class RateLimiter:
    """At most `rate` submits a second, spaced evenly (0 = unlimited)."""

    def __init__(self, rate: float, clock: Clock = time.monotonic) -> None:
        self._interval = 1.0 / rate if rate > 0 else 0.0
        self._next = 0.0
        self._clock = clock

    async def wait(self) -> None:
        if not self._interval:
            return
        now = self._clock()
        slot = max(now, self._next)
        self._next = slot + self._interval  # reserved before sleeping, so waiters queue up
        if slot > now:
            await asyncio.sleep(slot - now)


class Throttle:
    """After ESME_RTHROTTLED or ESME_RMSGQFUL every submit of the link waits; the pause doubles
    while the SMSC keeps refusing and shrinks again as submits are accepted."""

    def __init__(self, base: float = 0.05, cap: float = 2.0, clock: Clock = time.monotonic) -> None:
        self._base = base
        self._cap = cap
        self._delay = 0.0
        self._until = 0.0
        self._clock = clock
        self.hits = 0

    @property
    def paused(self) -> bool:
        return self._clock() < self._until

    def hit(self) -> None:
        self.hits += 1
        now = self._clock()
        if now < self._until:
            return  # answers to submits sent before the pause began: already accounted for
        self._delay = min(self._cap, max(self._base, self._delay * 2))
        self._until = now + self._delay

    def success(self) -> None:
        self._delay /= 2
        if self._delay < self._base:
            self._delay = 0.0

    async def wait(self) -> None:
        while (remaining := self._until - self._clock()) > 0:
            await asyncio.sleep(remaining)
