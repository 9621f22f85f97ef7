"""Verified credentials, remembered per process so that an authenticated request need not read its account.

An entry is keyed by a MAC (keyed BLAKE2b) of the access key and the secret under a random key of this
process: the secret itself is never kept, and a lookup's timing tells nothing (nobody can aim at a key's
hash without the process's key). Only a pair that matched its stored hash (compared in constant time, as
always) is entered; a pair that misses goes to the database as before, so a wrong secret costs what it did.

Entries are dropped whenever an account may have changed (`telroute accounts rotate-secret`, `set-limits`,
`webhook-secret` and the sandbox's account deletion take effect at once): every such change calls
`accounts_changed` in its transaction, which counts it for this process and, on PostgreSQL, sends a NOTIFY
on `CHANNEL` that every process's cache LISTENs to; on SQLite other processes see the database's data
version move. Until the LISTEN is up, and after its connection is lost, nothing is remembered. Entries also
lapse after `ttl` seconds; at most `capacity` are kept.
"""

from __future__ import annotations

import hashlib
import os
import time
from collections.abc import Callable

from telroute.kit.db import Connection, Database, notify
from telroute.kit.versioned_cache import Version, VersionedCache

CHANNEL = "telroute_accounts"


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
        self._verified: VersionedCache[bytes, object] = VersionedCache(
            CHANNEL, here=lambda database: lambda: _changed_here.value, ttl=ttl, capacity=capacity, now=now
        )

    async def follow(self, database: Database) -> None:
        """Follow the accounts' changes: SQLite's data version, or on PostgreSQL a LISTEN (while it is down,
        tried again now and then, and nothing is kept)."""
        await self._verified.follow(database)

    def _digest(self, access_key: str, secret: str) -> bytes:
        pair = f"{access_key}\x00{secret}".encode("utf-8", "surrogatepass")
        return hashlib.blake2b(pair, key=self._key, digest_size=32).digest()  # keyed BLAKE2: a MAC in one call

    def get(self, access_key: str, secret: str) -> object | None:
        return self._verified.get(self._digest(access_key, secret))

    def version(self) -> Version | None:
        """Take before reading the account for `put`: None when nothing may be kept."""
        return self._verified.version()

    def put(self, access_key: str, secret: str, value: object, *, read_at: Version | None) -> None:
        """Remember a pair just verified against the database, unless the accounts changed since `read_at`
        (`version()` before the read): what was read may be what the change replaced."""
        if read_at is not None:
            self._verified.put(self._digest(access_key, secret), value, read_at=read_at)

    async def close(self) -> None:
        await self._verified.close()
