"""Verified credentials, remembered per process so that an authenticated request need not read its account.

An entry is keyed by an HMAC of the access key and the secret under a random key of this process: the
secret itself is never kept, and a lookup's timing tells nothing (nobody can aim at a key's hash without
the process's key). Only a pair that matched its stored hash (compared in constant time, as always) is
entered; a pair that misses goes to the database as before, so a wrong secret costs what it did.

Entries are dropped whenever an account may have changed (`telroute accounts rotate-secret`, `set-limits`,
`webhook-secret` and the sandbox's account deletion take effect at once): every such change calls
`accounts_changed` in its transaction, which counts it for this process and, on PostgreSQL, sends a NOTIFY
on `CHANNEL` that every process's cache LISTENs to; on SQLite other processes see the database's data
version move. Until the LISTEN is up, and after its connection is lost, nothing is remembered. Entries also
lapse after `ttl` seconds; at most `capacity` are kept.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import time
from collections.abc import Callable

import structlog

from telroute.kit.channel_listener import ChannelListener
from telroute.kit.db import Connection, Database, data_version_of, notify

CHANNEL = "telroute_accounts"
log = structlog.get_logger("telroute.auth")


class _Count:
    value = 0


_changed_here = _Count()  # this process's own changes (SQLite's data version counts only other processes')


async def accounts_changed(connection: Connection) -> None:
    """Call in the transaction of any change to an account's keys, limits or signing secret, or its removal."""
    _changed_here.value += 1
    await notify(connection, CHANNEL)


class CredentialCache:
    def __init__(self, *, ttl: float = 30.0, capacity: int = 10_000, now: Callable[[], float] = time.monotonic) -> None:
        self._key = os.urandom(32)
        self._ttl = ttl
        self._capacity = capacity
        self._now = now
        self._entries: dict[bytes, tuple[object, float]] = {}
        self._version: Callable[[], tuple[int, int]] | None = None  # None: not following, so nothing is kept
        self._seen_version = (0, 0)
        self._listener = ChannelListener(CHANNEL, on_lost=self._lost, now=now)

    async def follow(self, database: Database) -> None:
        """Follow the accounts' changes: SQLite's data version, or on PostgreSQL a LISTEN (while it is down,
        tried again now and then, and nothing is kept)."""
        if self._version is not None:
            return
        data_version = data_version_of(database)
        if data_version is not None:
            self._start(data_version)
        elif await self._listener.keep_up(database):
            self._start(lambda: self._listener.heard.generation)

    def _start(self, changed_elsewhere: Callable[[], int]) -> None:
        def version() -> tuple[int, int]:
            return _changed_here.value, changed_elsewhere()

        self._seen_version = version()
        self._version = version

    def _lost(self) -> None:
        log.warning("credentials are not cached until the LISTEN for account changes is back")
        self._version = None
        self._entries.clear()

    def _current(self) -> bool:
        """False when nothing may be kept; drops every entry when the accounts changed since the last look."""
        if self._version is None:
            return False
        version = self._version()
        if version != self._seen_version:
            self._seen_version = version
            self._entries.clear()
        return True

    def _digest(self, access_key: str, secret: str) -> bytes:
        pair = f"{access_key}\x00{secret}".encode("utf-8", "surrogatepass")
        return hmac.new(self._key, pair, hashlib.sha256).digest()

    def get(self, access_key: str, secret: str) -> object | None:
        if not self._current():
            return None
        digest = self._digest(access_key, secret)
        entry = self._entries.get(digest)
        if entry is None:
            return None
        value, expires = entry
        if expires <= self._now():
            del self._entries[digest]
            return None
        return value

    def version(self) -> tuple[int, int] | None:
        """Take before reading the account for `put`: None when nothing may be kept."""
        return self._seen_version if self._current() else None

    def put(self, access_key: str, secret: str, value: object, *, read_at: tuple[int, int] | None) -> None:
        """Remember a pair just verified against the database, unless the accounts changed since `read_at`
        (`version()` before the read): what was read may be what the change replaced."""
        if read_at is None or not self._current() or self._seen_version != read_at:
            return
        if len(self._entries) >= self._capacity:
            del self._entries[next(iter(self._entries))]  # the oldest entry
        self._entries[self._digest(access_key, secret)] = (value, self._now() + self._ttl)

    async def close(self) -> None:
        self._version = None
        self._entries.clear()
        await self._listener.close()
