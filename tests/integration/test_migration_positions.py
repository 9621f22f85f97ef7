"""Migration 0002 numbers the messages a database already holds: per account, 1, 2, 3... in time
order (ties by id), with each account's counter at its last position, so pages of old and new
messages line up and a message sent after the upgrade continues the numbering."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from telroute.kit import db as dbkit
from telroute.kit.db import Connection, sql
from telroute.kit.migrate import migrate
from telroute.messages import repository
from tests.integration.test_messages_repository import message_values
from tests.support.isolated import isolated_database_url

T0 = 1_700_000_000_000_000
_ACCOUNT = sql(
    "INSERT INTO accounts (access_key, name, secret_hash, created_at_us) VALUES (:key, 'old', 'x', 0) RETURNING id"
)
_MESSAGE_0001 = sql(
    """INSERT INTO messages (public_id, account_id, direction, from_number, to_number, body, is_mms, status,
         message_encoding, message_type, segments, amount_nd, created_at_us, updated_at_us)
       VALUES (:public_id, :account, 'outbound', '12065550100', '13125550123', :body, false, 'delivered',
         0, 'longcode', 1, 4000000, :at, :at) RETURNING id"""
)


async def _seed_before_upgrade(connection: Connection) -> dict[str, list[int]]:
    """Two accounts' messages inserted out of time order, one pair sharing a timestamp."""
    accounts = {key: await connection.fetchval(_ACCOUNT, {"key": key}) for key in ("a", "b")}
    inserted: dict[str, list[int]] = {"a": [], "b": []}
    for key, offset in [("a", 30), ("b", 5), ("a", 10), ("a", 20), ("b", 1), ("a", 20)]:
        values = {"public_id": f"mdr2-{key}{offset}{len(inserted[key])}", "account": accounts[key]}
        message_id = await connection.fetchval(_MESSAGE_0001, {**values, "body": key, "at": T0 + offset})
        inserted[key].append(message_id)
    return {key: [accounts[key], *ids] for key, ids in inserted.items()}


async def _positions(connection: Connection, account: int) -> list[tuple[int, int]]:
    rows = await connection.fetch(
        sql("SELECT seq, id FROM messages WHERE account_id = :account ORDER BY seq"), {"account": account}
    )
    return [(row["seq"], row["id"]) for row in rows]


async def _counter(connection: Connection, account: int) -> dict[str, Any]:
    row = await connection.fetchrow(
        sql("SELECT last_seq, last_at_us FROM message_positions WHERE account_id = :id"), {"id": account}
    )
    assert row is not None
    return dict(row)


async def test_upgrade_numbers_existing_messages_in_time_order(tmp_path: Path) -> None:
    with isolated_database_url(tmp_path) as url:
        await asyncio.to_thread(migrate, url, "0001")
        database = await dbkit.connect(url)
        try:
            async with database.transaction() as connection:
                seeded = await _seed_before_upgrade(connection)
            await asyncio.to_thread(migrate, url)
            (account_a, a30, a10, a20, a20_later), (account_b, b5, b1) = seeded["a"], seeded["b"]
            assert await _positions(database, account_a) == [(1, a10), (2, a20), (3, a20_later), (4, a30)]
            assert await _positions(database, account_b) == [(1, b1), (2, b5)]
            assert await _counter(database, account_a) == {"last_seq": 4, "last_at_us": T0 + 30}
            async with database.transaction() as connection:
                newer = await repository.insert(connection, message_values(account_a, T0 + 40))
            page = await repository.page(database, account_a, start=0, end=2**62, limit=3, offset=1)
            assert [row["id"] for row in page] == [a30, a20_later, a20]
            assert (await _positions(database, account_a))[-1] == (5, newer)
        finally:
            await database.close()
