"""The LISTEN a process keeps up (`kit/channel_listener.py`), on the suite's database: on PostgreSQL it hears
every process's NOTIFY; a lost connection fires `heard` (followers read again) and the owner's `on_lost`, and
is LISTENed again only once the retry delay has passed; SQLite has no NOTIFY and never listens."""

from __future__ import annotations

import asyncio

import pytest

from telroute.kit import db as dbkit
from telroute.kit.channel_listener import ChannelListener
from telroute.kit.db import Database
from tests.support.databases import on_postgres

CHANNEL = "telroute_listener_test"


class FakeTime:
    def __init__(self) -> None:
        self.now = 1_000.0

    def __call__(self) -> float:
        return self.now


async def heard_after(listener: ChannelListener, generation: int) -> bool:
    for _ in range(200):  # a NOTIFY arrives a moment after its commit
        if listener.heard.generation > generation:
            return True
        await asyncio.sleep(0.01)
    return False


@pytest.mark.sqlite_only
async def test_sqlite_never_listens(database: Database) -> None:
    assert not on_postgres()
    listener = ChannelListener(CHANNEL)
    assert not await listener.keep_up(database)
    assert not listener.up


@pytest.mark.postgres_only
async def test_a_lost_listen_is_heard_reported_and_listened_again_after_the_retry_delay(database: Database) -> None:
    lost: list[str] = []
    time = FakeTime()
    listener = ChannelListener(CHANNEL, retry=30.0, on_lost=lambda: lost.append("lost"), now=time)
    try:
        assert await listener.keep_up(database) and listener.up
        generation = listener.heard.generation
        async with database.transaction() as connection:
            await dbkit.notify(connection, CHANNEL)
        assert await heard_after(listener, generation)

        generation = listener.heard.generation
        await database.fetch(
            dbkit.sql(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                f"WHERE datname = current_database() AND query = 'LISTEN \"{CHANNEL}\"'"
            )
        )
        assert await heard_after(listener, generation)  # followers read again at once
        assert lost == ["lost"] and not listener.up
        time.now += 29
        assert not await listener.keep_up(database)  # not yet: the retry delay runs from the last try
        time.now += 2
        assert await listener.keep_up(database) and listener.up
        generation = listener.heard.generation
        async with database.transaction() as connection:
            await dbkit.notify(connection, CHANNEL)
        assert await heard_after(listener, generation)
    finally:
        await listener.close()
    assert lost == ["lost"]  # closing on purpose is no loss
