"""The ends of deliveries whose submits came back together (`tasks.end_submits`): on PostgreSQL one statement
for all of them (on SQLite one transaction of a statement per write), each message moved, receipted, given
its carrier ids, its DLR callback job and its scheduled jobs as if ended alone, every delivery job ended; a
message already moved on is left as it is; a message twice is ended on its own; a malformed end fails only
itself."""

from __future__ import annotations

from typing import Any

import pytest

from telroute.accounts.model import Account
from telroute.bootstrap import Deps
from telroute.kit.db import sql, writes_with_ctes
from telroute.messages import delivery, model, repository, service, tasks
from tests.support.deliveries import claimed_submits
from tests.support.number_owner import account_owning

T0 = 1_700_000_000_000_000
OURS = "12065550181"
_JOB_KINDS = sql("SELECT kind, COUNT(*) AS n FROM jobs GROUP BY kind")
_PARTS = sql("SELECT message_id, carrier_message_id FROM carrier_message_ids WHERE carrier = 'test'")


@pytest.fixture
async def deps(isolated_deps: Deps) -> Deps:
    return isolated_deps


async def queued(deps: Deps, account: Account, count: int) -> list[delivery.Submitted]:
    return await claimed_submits(deps, account, OURS, count, now=T0)


async def job_kinds(deps: Deps) -> dict[str, int]:
    return {row["kind"]: row["n"] for row in await deps.db.fetch(_JOB_KINDS)}


async def level1_receipts(deps: Deps, submitted: list[delivery.Submitted]) -> list[list[Any]]:
    found = await repository.receipts_of(deps.db, [one.message["id"] for one in submitted])
    return [[(r["level"], r["status"]) for r in found[one.message["id"]]] for one in submitted]


async def test_ends_together_are_one_statement_and_each_is_ended_as_if_alone(deps: Deps) -> None:
    account = await account_owning(deps, "submits", OURS, per_second=1000, now=T0)
    submitted = await queued(deps, account, 4)
    async with deps.db.alone() as connection:  # the third moved on meanwhile (a receipt overtook its submit)
        assert await repository.advance_status(connection, submitted[2].message["id"], model.DELIVERED, now=T0)
    statements = deps.db.counted.statements
    assert await tasks.end_submits(deps, submitted) == [True, True, False, True]
    # PostgreSQL: one statement; SQLite: the moves, the receipts, the carrier ids, the jobs ended and enqueued
    assert deps.db.counted.statements - statements == (1 if writes_with_ctes(deps.db) else 5)
    assert await level1_receipts(deps, submitted) == [[(1, model.SUBMITTED)]] * 2 + [[]] + [[(1, model.SUBMITTED)]]
    moved = [one for n, one in enumerate(submitted) if n != 2]
    parts = {(row["message_id"], row["carrier_message_id"]) for row in await deps.db.fetch(_PARTS)}
    assert parts == {(one.message["id"], f"id-{one.job.id}-{p}") for one in moved for p in "ab"}
    # DLR callbacks for the moved ones only; the scheduled jobs of all; no delivery job left
    assert await job_kinds(deps) == {"deliver_webhook": 3, "scheduled_receipt": 4}
    for one in moved:
        record = await repository.by_id(deps.db, one.message["id"])
        assert record is not None
        assert (record["status"], record["carrier"], record["parts_pending"]) == (model.SUBMITTED, "test", 2)


async def test_a_message_twice_is_ended_once(deps: Deps) -> None:
    """A delivery job run again after its lease lapsed: both runs end, the message moves once."""
    account = await account_owning(deps, "submits", OURS, per_second=1000, now=T0)
    [first, other] = await queued(deps, account, 2)
    again = delivery.Submitted(first.job, first.message, "test", ("id-again",), None, [])
    assert await tasks.end_submits(deps, [first, again, other]) == [True, False, True]
    assert await level1_receipts(deps, [first, other]) == [[(1, model.SUBMITTED)]] * 2
    assert await job_kinds(deps) == {"deliver_webhook": 2, "scheduled_receipt": 2}


async def test_a_malformed_end_fails_alone_and_the_others_are_ended(deps: Deps) -> None:
    account = await account_owning(deps, "submits", OURS, per_second=1000, now=T0)
    good, bad, other = await queued(deps, account, 3)
    broken = delivery.Submitted(bad.job, bad.message, "test", bad.carrier_ids, None, [{"kind": "x", "payload": "{}"}])
    outcomes = await tasks.end_submits(deps, [good, broken, other])
    assert outcomes[0] is True and outcomes[2] is True
    assert isinstance(outcomes[1], Exception)
    assert await level1_receipts(deps, [good, bad, other]) == [[(1, model.SUBMITTED)], [], [(1, model.SUBMITTED)]]
    assert await job_kinds(deps) == {"deliver_webhook": 2, "scheduled_receipt": 2, service.DELIVER_MESSAGE: 1}
