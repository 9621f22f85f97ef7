"""A LISTEN on one PostgreSQL channel that a process keeps up for a cache or a follower of shared state.

`keep_up` opens it when it is down and a try is due (at once the first time, then every `retry` seconds);
`heard` fires for each notification and when the connection is lost (whatever was announced meanwhile is
unknown, so a follower reads again); `on_lost` lets an owner drop what it kept while it trusted the channel.
The credential cache, the sandbox's virtual clock and the console's notifier each follow their channel
through one of these.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable

import structlog

from telroute.kit.db import Database, listen, notifies_across_processes
from telroute.kit.signal import Signal

RETRY_SECONDS = 30.0
log = structlog.get_logger("telroute.db")


class ChannelListener:
    def __init__(
        self,
        channel: str,
        *,
        retry: float = RETRY_SECONDS,
        on_lost: Callable[[], None] | None = None,
        now: Callable[[], float] = time.monotonic,
    ) -> None:
        self.channel = channel
        self.heard = Signal()
        self._retry = retry
        self._on_lost = on_lost
        self._now = now
        self._close: Callable[[], Awaitable[None]] | None = None
        self._next_try = 0.0

    @property
    def up(self) -> bool:
        return self._close is not None

    async def keep_up(self, database: Database) -> bool:
        """LISTEN if it is down and a try is due; whether it is up. Never raises: a failed try is logged and
        made again `retry` seconds later. False on SQLite, which has no NOTIFY."""
        if self._close is not None:
            return True
        if not notifies_across_processes(database) or self._now() < self._next_try:
            return False
        self._next_try = self._now() + self._retry
        try:
            self._close = await listen(database, self.channel, self.heard.fire, on_lost=self._lost)
        except Exception as exc:
            log.warning(
                "could not LISTEN: trying again later", channel=self.channel, retry_in=self._retry, error=str(exc)
            )
            return False
        return True

    def _lost(self) -> None:
        if self._close is None:  # closed on purpose
            return
        self._close = None
        log.warning("the LISTEN connection was lost", channel=self.channel)
        self.heard.fire()
        if self._on_lost is not None:
            self._on_lost()

    async def close(self) -> None:
        if self._close is not None:
            close, self._close = self._close, None
            await close()
