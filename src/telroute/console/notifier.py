"""One notifier per process fans changes out to every open console's live stream.

It runs only while a console is open. On SQLite it wakes when this process commits
(`Database.committed`), or every `RECHECK_SECONDS` for writes of another process (a separate worker);
on PostgreSQL when any process of the deployment publishes a commit (`changes.py`, LISTEN/NOTIFY on
one connection of this process). Then it waits
`COALESCE_SECONDS` so that a burst of commits costs one round, and then reads one change marker per
account that has a console open (however many consoles that account has), handing it to those
consoles when it moved. So the database's work does not grow with the number of open consoles and a send
never waits for them; what does grow is one small write per console per round, which is why a round
happens at most every `COALESCE_SECONDS` (a change still reaches the page well within a second) and why
the hand-over to a console (`Watch`) is a plain future, not a task and a queue per event."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

import structlog

from telroute.console import repository
from telroute.kit.channel_listener import ChannelListener
from telroute.kit.db import Database

RECHECK_SECONDS = 1.0
LISTENING_RECHECK_SECONDS = 5.0
COALESCE_SECONDS = 0.25
Marker = tuple[int, int]
log = structlog.get_logger("telroute.console")


class Watch:
    """One console's view of its account's change marker: the newest marker not yet taken, and the future
    its stream waits on."""

    __slots__ = ("_marker", "_waiter")

    def __init__(self) -> None:
        self._marker: Marker | None = None
        self._waiter: asyncio.Future[None] | None = None

    def offer(self, marker: Marker) -> None:
        self._marker = marker
        self.wake()

    def wake(self) -> None:
        if self._waiter is not None and not self._waiter.done():
            self._waiter.set_result(None)

    async def next(self, timeout: float) -> Marker | None:
        """The newest marker, waiting up to `timeout` seconds (or until `wake()`) for one; None if none came."""
        if self._marker is None:
            loop = asyncio.get_running_loop()
            self._waiter = loop.create_future()
            timer = loop.call_later(timeout, self.wake)
            try:
                await self._waiter
            finally:
                timer.cancel()
                self._waiter = None
        marker, self._marker = self._marker, None
        return marker


class Notifier:
    def __init__(self, db: Database) -> None:
        self._db = db
        self._watchers: dict[int, set[Watch]] = {}
        self._markers: dict[int, Marker] = {}
        self._task: asyncio.Task[None] | None = None

    @contextlib.asynccontextmanager
    async def watch(self, account_id: int) -> AsyncIterator[Watch]:
        """A `Watch` offered the account's change marker whenever it moves."""
        watch = Watch()
        self._watchers.setdefault(account_id, set()).add(watch)
        if self._task is None or self._task.done():
            self._task = asyncio.get_running_loop().create_task(self._run())
        try:
            yield watch
        finally:
            watchers = self._watchers.get(account_id, set())
            watchers.discard(watch)
            if not watchers:
                self._watchers.pop(account_id, None)
                self._markers.pop(account_id, None)

    async def _run(self) -> None:
        listener = ChannelListener(repository.CHANNEL)  # one LISTEN while consoles are open, closed after
        try:
            await self._rounds(listener)
        finally:
            await listener.close()

    async def _rounds(self, listener: ChannelListener) -> None:
        """Each round waits for what may have changed: every process's NOTIFY while the LISTEN is up (then the
        re-check is only a safety net), else this process's commits and a re-check every second (SQLite, or
        PostgreSQL while the LISTEN is down: it is tried again every 30 s, and its loss wakes a round)."""
        while self._watchers:
            listening = await listener.keep_up(self._db)
            signal = listener.heard if listening else self._db.committed
            generation = signal.generation
            try:
                await self._round()
            except Exception:  # the database may be away for a moment: the next round tries again
                log.warning("the console notifier could not read changes", exc_info=True)
            await signal.wait_after(generation, LISTENING_RECHECK_SECONDS if listening else RECHECK_SECONDS)
            await asyncio.sleep(COALESCE_SECONDS)

    async def _round(self) -> None:
        for account_id in list(self._watchers):
            marker = await repository.marker(self._db, account_id)
            if self._markers.get(account_id) == marker:
                continue
            self._markers[account_id] = marker
            for watch in self._watchers.get(account_id, ()):
                watch.offer(marker)
