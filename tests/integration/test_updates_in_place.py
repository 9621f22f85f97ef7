"""PostgreSQL: a message's two updates after its insert (submitted, then its receipt) and its carrier id's one
are written in place: the row's live version stays on the page it was inserted into, which is what lets
PostgreSQL skip every index (migration 0011 leaves room on each page). Measured by the rows' `ctid` pages, not
by PostgreSQL's statistics, which are written behind."""

from __future__ import annotations

import pytest

from telroute.bootstrap import Deps
from telroute.kit.db import sql
from telroute.messages import tasks
from tests.support.deliveries import claimed_submits, receipt_jobs
from tests.support.number_owner import account_owning

pytestmark = pytest.mark.postgres_only

T0 = 1_700_000_000_000_000
OURS = "12065550181"
COUNT = 150  # several pages of each table
_PAGES = {
    "messages": sql("SELECT id AS key, (ctid::text::point)[0]::int AS page FROM messages"),
    "carrier_message_ids": sql(
        "SELECT carrier_message_id AS key, (ctid::text::point)[0]::int AS page FROM carrier_message_ids"
    ),
}


async def pages(deps: Deps, table: str) -> dict[object, int]:
    return {row["key"]: row["page"] for row in await deps.db.fetch(_PAGES[table])}


def kept(before: dict[object, int], after: dict[object, int]) -> float:
    return sum(after[key] == page for key, page in before.items()) / len(before)


async def test_a_message_and_its_part_are_updated_on_their_own_pages(isolated_deps: Deps) -> None:
    deps = isolated_deps
    account = await account_owning(deps, "in place", OURS, per_second=1000, now=T0)
    sent = await claimed_submits(deps, account, OURS, COUNT, parts=1, now=T0)
    inserted = await pages(deps, "messages")
    assert len(set(inserted.values())) >= 4  # the rows fill several pages
    assert await tasks.end_submits(deps, sent) == [True] * COUNT  # the first update; the parts inserted
    parts_inserted = await pages(deps, "carrier_message_ids")
    async with deps.db.transaction() as connection:  # the level-1 callbacks and scheduled jobs are not ours here
        await connection.execute(sql("DELETE FROM jobs"))
    claimed = await receipt_jobs(deps, [(one.carrier_ids[0], "DELIVRD") for one in sent], now=T0)
    assert await tasks.apply_receipts(deps, claimed) == [True] * COUNT  # the second update
    assert kept(inserted, await pages(deps, "messages")) >= 0.9
    assert kept(parts_inserted, await pages(deps, "carrier_message_ids")) >= 0.9
