"""PostgreSQL plans the batched statements at every run: a plan kept from when `messages` and
`carrier_message_ids` were small (as they are when a process starts on a new database) joined every batch
with a scan of the whole table once they were large, and a 10-minute soak slowed down minute by minute."""

from __future__ import annotations

import pytest

from telroute.bootstrap import Deps
from telroute.kit.db import Connection, sql
from telroute.messages import delivery, repository, tasks
from tests.support.deliveries import claimed_submits
from tests.support.number_owner import account_owning

pytestmark = pytest.mark.postgres_only

T0 = 1_700_000_000_000_000
OURS = "12065550181"
_SEQUENTIAL_SCANS = sql(
    "SELECT relname, seq_scan FROM pg_stat_xact_user_tables WHERE relname IN ('messages', 'carrier_message_ids')"
)
_MANY_MESSAGES = sql(
    """INSERT INTO messages (public_id, account_id, direction, from_number, to_number, body, is_mms, status,
         message_encoding, message_type, segments, amount_nd, seq, created_at_us, updated_at_us)
       SELECT 'filler-' || n, :account, 'outbound', :ours, '13125550000', 'x', FALSE, 'delivered', 0, 'longcode',
         1, 0, 1000000 + n, CAST(:now AS BIGINT), CAST(:now AS BIGINT)
       FROM generate_series(1, 30000) AS n"""
)
_MANY_PARTS = sql(
    """INSERT INTO carrier_message_ids (carrier, carrier_message_id, message_id, part)
       SELECT 'test', 'filler-' || id, id, 0 FROM messages WHERE public_id LIKE 'filler-%'"""
)


async def test_batches_read_their_rows_by_index_after_the_tables_grew(isolated_deps: Deps) -> None:
    deps = isolated_deps
    account = await account_owning(deps, "plans", OURS, per_second=1000, now=T0)
    for _ in range(8):  # more runs than PostgreSQL makes before it keeps a generic plan, on small tables
        one = await claimed_submits(deps, account, OURS, 2, parts=1, now=T0)
        assert await tasks.end_submits(deps, one) == [True, True]
        async with deps.db.transaction() as connection:  # the jobs they enqueued: not for the next claim
            await connection.execute(sql("DELETE FROM jobs"))
    async with deps.db.transaction() as connection:
        await connection.execute(_MANY_MESSAGES, {"account": account.id, "ours": OURS, "now": T0})
        await connection.execute(_MANY_PARTS)
    submitted = await claimed_submits(deps, account, OURS, 2, parts=1, now=T0)
    async with deps.db.transaction() as connection:
        # the counts include this backend's earlier transactions not yet reported: compare before and after
        before = await sequential_scans(connection)
        assert await delivery.mark_all_submitted_ending(connection, submitted, tasks.context(deps)) == [True, True]
        named = [("test", one.carrier_ids[0]) for one in submitted]
        assert len(await repository.locked_by_carrier_ids(connection, named)) == 2
        assert await sequential_scans(connection) == before


async def sequential_scans(connection: Connection) -> dict[str, int]:
    return {row["relname"]: row["seq_scan"] for row in await connection.fetch(_SEQUENTIAL_SCANS)}
