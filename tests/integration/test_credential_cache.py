"""The per-process cache of verified credentials, on the suite's database: what it keeps, for how long, and
that a change to the accounts made by another process (another connection here) empties it."""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest

from telroute.accounts import repository as accounts_repository
from telroute.accounts import service as accounts_service
from telroute.kit import db as dbkit
from telroute.kit.credential_cache import CredentialCache
from telroute.kit.db import Database

Caches = Callable[..., Awaitable[CredentialCache]]


class FakeTime:
    def __init__(self) -> None:
        self.now = 1_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
async def caches(database: Database) -> AsyncIterator[Caches]:
    """Caches that follow the database's accounts (closed after the test: on PostgreSQL each LISTENs)."""
    made: list[CredentialCache] = []

    async def following(**options: Any) -> CredentialCache:
        cache = CredentialCache(**options)
        made.append(cache)
        await cache.follow(database)
        return cache

    yield following
    for cache in made:
        await cache.close()


async def remember(cache: CredentialCache, key: str, secret: str, value: object) -> None:
    cache.put(key, secret, value, read_at=cache.version())


async def test_nothing_is_kept_before_the_cache_follows_the_accounts(database: Database) -> None:
    cache = CredentialCache()
    assert cache.version() is None
    cache.put("12345678", "secret", "account", read_at=None)
    await cache.follow(database)
    try:
        assert cache.get("12345678", "secret") is None
    finally:
        await cache.close()


async def test_a_verified_pair_is_found_and_no_other(caches: Caches) -> None:
    cache = await caches()
    await remember(cache, "12345678", "right", "account")
    assert cache.get("12345678", "right") == "account"
    assert cache.get("12345678", "wrong") is None
    assert cache.get("87654321", "right") is None
    assert cache.get("12345678\x00right", "") is None  # the pair's separator cannot be smuggled in


async def test_the_secret_itself_is_never_kept(caches: Caches) -> None:
    cache = await caches()
    secret = "s3cr3t-value-that-must-not-be-stored"
    await remember(cache, "12345678", secret, "account")
    state = repr([vars(cache), vars(cache._verified)]).encode()  # the entries are kept in the latter
    assert secret.encode() not in state
    assert hashlib.sha256(secret.encode()).hexdigest().encode() not in state


async def test_entries_lapse_after_the_ttl_and_the_oldest_go_first(caches: Caches) -> None:
    time = FakeTime()
    cache = await caches(ttl=5.0, capacity=2, now=time)
    await remember(cache, "1", "a", "first")
    await remember(cache, "2", "b", "second")
    await remember(cache, "3", "c", "third")
    assert [cache.get(key, secret) for key, secret in (("1", "a"), ("2", "b"), ("3", "c"))] == [None, "second", "third"]
    time.now += 5.0
    assert cache.get("2", "b") is None


async def wait_until_forgotten(cache: CredentialCache, key: str, secret: str) -> None:
    for _ in range(200):  # on PostgreSQL the NOTIFY arrives a moment after the commit
        if cache.get(key, secret) is None:
            return
        await asyncio.sleep(0.01)
    raise AssertionError("the cache still holds the pair after the accounts changed")


async def test_a_change_to_the_accounts_in_another_process_empties_the_cache(
    database: Database, caches: Caches
) -> None:
    async with database.transaction() as connection:
        keys = await accounts_service.create(connection, "cached", now=1)
    cache = await caches()
    await remember(cache, keys.access_key, keys.secret_key, "account")
    elsewhere = await dbkit.connect(database.url)
    try:
        read_at = cache.version()
        async with elsewhere.transaction() as connection:
            assert await accounts_repository.set_limits(connection, keys.access_key, 50, None)
        await wait_until_forgotten(cache, keys.access_key, keys.secret_key)
        cache.put(keys.access_key, keys.secret_key, "stale", read_at=read_at)  # read before the change: not kept
        assert cache.get(keys.access_key, keys.secret_key) is None
        await remember(cache, keys.access_key, keys.secret_key, "fresh")
        assert cache.get(keys.access_key, keys.secret_key) == "fresh"
    finally:
        await elsewhere.close()


async def test_a_change_in_this_process_empties_the_cache_at_once(database: Database, caches: Caches) -> None:
    async with database.transaction() as connection:
        keys = await accounts_service.create(connection, "deleted here", now=1)
    cache = await caches()
    await remember(cache, keys.access_key, keys.secret_key, "account")
    async with database.transaction() as connection:  # SQLite: the same connection, its data version stays
        assert await accounts_repository.set_webhook_secret(connection, keys.access_key, "c2VjcmV0")
    assert cache.get(keys.access_key, keys.secret_key) is None


@pytest.mark.postgres_only
async def test_nothing_is_kept_while_the_listen_is_lost_and_caching_resumes_once_it_is_back(
    database: Database,
) -> None:
    async with database.transaction() as connection:
        keys = await accounts_service.create(connection, "listen lost", now=1)
    time = FakeTime()
    cache = CredentialCache(now=time)
    await cache.follow(database)
    try:
        await remember(cache, keys.access_key, keys.secret_key, "account")
        assert cache.get(keys.access_key, keys.secret_key) == "account"
        ended = await database.fetch(
            dbkit.sql(
                "SELECT pg_terminate_backend(pid) AS ended FROM pg_stat_activity "
                "WHERE datname = current_database() AND query = 'LISTEN \"telroute_accounts\"'"
            )
        )
        assert [row["ended"] for row in ended] == [True]
        await wait_until_forgotten(cache, keys.access_key, keys.secret_key)
        assert cache.version() is None
        await remember(cache, keys.access_key, keys.secret_key, "while down")  # not kept: changes go unheard
        assert cache.get(keys.access_key, keys.secret_key) is None
        await cache.follow(database)  # too soon to try again
        assert cache.version() is None
        time.now += 31
        await cache.follow(database)
        await remember(cache, keys.access_key, keys.secret_key, "back")
        assert cache.get(keys.access_key, keys.secret_key) == "back"
    finally:
        await cache.close()
