"""Retention's pruning round against the real database, in batches smaller than what is old: every message
older than the retention goes with its receipts and reply links, every older callback try too, and what is
younger stays."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from telroute import bootstrap
from telroute.bootstrap import Deps
from telroute.config import Settings
from telroute.kit.db import sql
from telroute.messages import repository, retention
from telroute.webhooks import repository as webhooks_repository
from tests.integration.test_messages_repository import message_values, new_account_id
from tests.support.isolated import migrated_database_url

NOW = 1_800_000_000_000_000
DAY = 86_400_000_000
OLD = NOW - 2 * DAY


@pytest.fixture
async def small_batches(tmp_path: Path) -> AsyncIterator[Deps]:
    with migrated_database_url(tmp_path) as url:
        settings = Settings(data_dir=tmp_path, database_url=url, retention_batch=2, retention_pause=0.0)
        built = await bootstrap.build(settings, clock=lambda: NOW)
        yield built
        await built.close()


async def _message(deps: Deps, account: int, created: int) -> int:
    async with deps.db.transaction() as connection:
        message_id = await repository.insert(connection, message_values(account, created))
        await repository.add_receipt(
            connection, message_id, level=1, status="smsc submit", code=1003, description="sent", now=created
        )
    return message_id


async def _attempt(deps: Deps, account: int, created: int) -> None:
    values = {
        "account_id": account,
        "event": "message_status",
        "message_public_id": "mdr2-x",
        "url": "http://127.0.0.1:9/x",
        "attempt": 1,
        "status_code": 200,
        "latency_ms": 1,
        "error": None,
        "payload": "{}",
        "dead_lettered": False,
        "now": created,
    }
    async with deps.db.transaction() as connection:
        await webhooks_repository.record_attempt(connection, values)


async def _count(deps: Deps, table: str) -> int:
    async with deps.db.snapshot() as connection:
        return int(await connection.fetchval(sql(f"SELECT COUNT(*) FROM {table}")))


@pytest.mark.parametrize("old", [5, 4])  # a last batch short, and one empty
async def test_a_round_prunes_everything_older_in_batches_and_keeps_the_younger(small_batches: Deps, old: int) -> None:
    deps = small_batches
    account = await new_account_id(deps)
    olds = [await _message(deps, account, OLD + n) for n in range(old)]
    young = await _message(deps, account, NOW - DAY // 2)
    async with deps.db.transaction() as connection:
        await repository.link_reply(connection, young, olds[0])
    for n in range(old):
        await _attempt(deps, account, OLD + n)
    await _attempt(deps, account, NOW - DAY // 2)

    assert await retention.prune(deps, DAY) == old

    async with deps.db.snapshot() as connection:
        assert await repository.by_id(connection, young) is not None
    counts = [await _count(deps, table) for table in ("messages", "receipts", "message_replies", "webhook_attempts")]
    assert counts == [1, 1, 0, 1]
    assert await retention.prune(deps, DAY) == 0
