"""Carrier receipts claimed together (`tasks.apply_receipts`): read (on PostgreSQL locked) in one query and,
those that are one write each, applied and ended together (one statement on PostgreSQL, a statement per write
over all of them on SQLite), each as `apply_carrier_state` would
(status, error, part state, level-2 receipt, DLR callback job) and its receipt job ended. The others are
left untouched, for the handler to take alone: no part with that id, a second report on a message, a message
already final, a delivered part of a multipart message; and all of them when the batch fails."""

from __future__ import annotations

from telroute.bootstrap import Deps
from telroute.kit.db import sql, writes_with_ctes
from telroute.messages import delivery, model, repository, tasks
from tests.support.deliveries import claimed_submits, receipt_jobs
from tests.support.number_owner import account_owning

T0 = 1_700_000_000_000_000
OURS = "12065550181"
_KINDS = sql("SELECT kind, COUNT(*) AS n FROM jobs GROUP BY kind")
_PART_STATES = sql("SELECT carrier_message_id, state FROM carrier_message_ids ORDER BY carrier_message_id")


async def submitted(deps: Deps, count: int, *, parts: int = 1) -> list[delivery.Submitted]:
    account = await account_owning(deps, "receipts", OURS, per_second=1000, now=T0)
    sent = await claimed_submits(deps, account, OURS, count, parts=parts, now=T0)
    assert await tasks.end_submits(deps, sent) == [True] * count
    async with deps.db.transaction() as connection:  # the level-1 callbacks and scheduled jobs are not ours here
        await connection.execute(sql("DELETE FROM jobs"))
    return sent


async def kinds(deps: Deps) -> dict[str, int]:
    return {row["kind"]: row["n"] for row in await deps.db.fetch(_KINDS)}


async def state_of(deps: Deps, one: delivery.Submitted) -> tuple[str, str | None, list[tuple[int, str]]]:
    message = await repository.by_id(deps.db, one.message["id"])
    assert message is not None
    receipts = (await repository.receipts_of(deps.db, [message["id"]]))[message["id"]]
    return message["status"], message["error"], sorted((r["level"], r["status"]) for r in receipts)


async def test_receipts_together_are_one_read_and_one_write_each_applied_as_alone(isolated_deps: Deps) -> None:
    deps = isolated_deps
    sent = await submitted(deps, 3)
    claimed = await receipt_jobs(
        deps,
        [(sent[0].carrier_ids[0], "DELIVRD"), (sent[1].carrier_ids[0], "UNDELIV"), (sent[2].carrier_ids[0], "delivrd")],
        now=T0,
    )
    statements = deps.db.counted.statements
    assert await tasks.apply_receipts(deps, claimed) == [True, True, True]
    # PostgreSQL: the read and one write; SQLite: the read, the parts, the moves, the receipts, the jobs ended
    # and the callbacks enqueued
    assert deps.db.counted.statements - statements == (2 if writes_with_ctes(deps.db) else 6)
    submitted_at = (1, model.SUBMITTED)
    assert await state_of(deps, sent[0]) == (model.DELIVERED, None, [submitted_at, (2, model.DELIVERED)])
    assert await state_of(deps, sent[1]) == ("undelivered", "UNDELIV", [submitted_at, (2, "undelivered")])
    assert await state_of(deps, sent[2]) == (model.DELIVERED, None, [submitted_at, (2, model.DELIVERED)])
    assert [row["state"] for row in await deps.db.fetch(_PART_STATES)] == ["DELIVRD", "UNDELIV", "DELIVRD"]
    assert await kinds(deps) == {"deliver_webhook": 3}  # the receipt jobs ended, a DLR callback each


async def test_what_is_not_one_write_is_left_for_the_handler_to_take_alone(isolated_deps: Deps) -> None:
    deps = isolated_deps
    single, final = await submitted(deps, 2)
    async with deps.db.alone() as connection:
        assert await repository.advance_status(connection, final.message["id"], model.DELIVERED, now=T0)
    claimed = await receipt_jobs(
        deps,
        [
            ("no-such-id", "DELIVRD"),
            (single.carrier_ids[0], "ENROUTE"),
            (single.carrier_ids[0], "DELIVRD"),  # a second report on one message
            (final.carrier_ids[0], "UNDELIV"),
        ],
        now=T0,
    )
    assert await tasks.apply_receipts(deps, claimed) == [False, True, False, False]
    assert (await state_of(deps, single))[0] == model.BUFFERED_OUTCOME.status  # the first report only
    assert (await state_of(deps, final))[0] == model.DELIVERED
    assert await kinds(deps) == {tasks.CARRIER_RECEIPT: 3, "deliver_webhook": 1}


async def test_a_delivered_part_of_a_multipart_message_is_left_alone(isolated_deps: Deps) -> None:
    deps = isolated_deps
    [two_parts] = await submitted(deps, 1, parts=2)
    claimed = await receipt_jobs(deps, [(two_parts.carrier_ids[0], "DELIVRD")], now=T0)
    assert await tasks.apply_receipts(deps, claimed) == [False]
    assert [row["state"] for row in await deps.db.fetch(_PART_STATES)] == [None, None]


async def refuse_receipts(deps: Deps) -> dict[str, object]:
    """Makes the batch's write of receipts fail: the receipt jobs' fields that do it (PostgreSQL: a code that
    is no integer), or a trigger (SQLite, which would store that text)."""
    if writes_with_ctes(deps.db):
        return {"status_code": "not a code"}
    refuse = "CREATE TEMP TRIGGER refuse BEFORE INSERT ON receipts BEGIN SELECT RAISE(ABORT, 'refused'); END"
    async with deps.db.transaction() as connection:
        await connection.execute(sql(refuse))
    return {}


async def test_when_the_batch_fails_every_receipt_is_left_for_the_handler(isolated_deps: Deps) -> None:
    deps = isolated_deps
    sent = await submitted(deps, 2)
    reports = [(one.carrier_ids[0], "DELIVRD") for one in sent]
    claimed = await receipt_jobs(deps, reports, **await refuse_receipts(deps), now=T0)
    assert await tasks.apply_receipts(deps, claimed) == [False, False]
    assert [(await state_of(deps, one))[0] for one in sent] == [model.SUBMITTED, model.SUBMITTED]
    assert [row["state"] for row in await deps.db.fetch(_PART_STATES)] == [None, None]  # rolled back too
    assert await kinds(deps) == {tasks.CARRIER_RECEIPT: 2}
