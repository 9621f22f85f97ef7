"""A per-process cache of what was read from shared state, dropped whenever that state may have changed.

The state's version is a pair: what this process changed (a count the owner supplies from the database, see
`Here`) and what other processes changed (on SQLite the file's data version, which moves at every commit of
another connection; on PostgreSQL the notifications heard on the cache's channel, which every change sends
in its transaction with `kit.db.notify`). When the version moves, every entry goes. Until the cache follows,
and on PostgreSQL while its LISTEN is down, the version is None and nothing is kept.

A reader takes `version()` before it reads and hands it to `put`, which keeps the value only if the version
has not moved since: what was read may be what a change replaced.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

import structlog

from telroute.kit.channel_listener import ChannelListener
from telroute.kit.db import Database, data_version_of

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")
Version = tuple[int, int]
# Given the database, the count of this process's own changes (SQLite's data version counts only other
# connections' commits, and a NOTIFY may arrive after the reader already looked).
Here = Callable[[Database], Callable[[], int]]
log = structlog.get_logger("telroute.db")


class VersionedCache(Generic[K, V]):
    def __init__(
        self,
        channel: str,
        *,
        here: Here,
        ttl: float | None = None,
        capacity: int = 10_000,
        now: Callable[[], float] = time.monotonic,
    ) -> None:
        self._here = here
        self._ttl = ttl
        self._capacity = capacity
        self._now = now
        self._entries: dict[K, tuple[V, float]] = {}
        self._version: Callable[[], Version] | None = None  # None: not following, so nothing is kept
        self._seen_version: Version = (0, 0)
        self._listener = ChannelListener(channel, on_lost=self._lost, now=now)

    async def follow(self, database: Database) -> None:
        """Start following the state's changes (on PostgreSQL a LISTEN, tried again now and then while down)."""
        if self._version is not None:
            return
        data_version = data_version_of(database)
        if data_version is not None:
            self._start(self._here(database), data_version)
        elif await self._listener.keep_up(database):
            self._start(self._here(database), lambda: self._listener.heard.generation)

    def _start(self, here: Callable[[], int], elsewhere: Callable[[], int]) -> None:
        def version() -> Version:
            return here(), elsewhere()

        self._seen_version = version()
        self._version = version

    def _lost(self) -> None:
        log.warning("nothing is cached until the LISTEN for changes is back", channel=self._listener.channel)
        self._version = None
        self._entries.clear()

    def _current(self) -> bool:
        """False when nothing may be kept; drops every entry when the state changed since the last look."""
        if self._version is None:
            return False
        version = self._version()
        if version != self._seen_version:
            self._seen_version = version
            self._entries.clear()
        return True

    def get(self, key: K) -> V | None:
        if not self._current():
            return None
        entry = self._entries.get(key)
        if entry is None:
            return None
        value, expires = entry
        if expires <= self._now():
            del self._entries[key]
            return None
        return value

    def version(self) -> Version | None:
        """Take before reading what `put` will keep: None when nothing may be kept."""
        return self._seen_version if self._current() else None

    def put(self, key: K, value: V, *, read_at: Version | None) -> None:
        """Keep `value`, read after `version()` returned `read_at`, unless the state changed since."""
        if read_at is None or not self._current() or self._seen_version != read_at:
            return
        if len(self._entries) >= self._capacity:
            del self._entries[next(iter(self._entries))]  # the oldest entry
        expires = float("inf") if self._ttl is None else self._now() + self._ttl
        self._entries[key] = (value, expires)

    async def close(self) -> None:
        self._version = None
        self._entries.clear()
        await self._listener.close()
