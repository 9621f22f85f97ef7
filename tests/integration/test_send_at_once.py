"""The send at once (`send_batches`): on PostgreSQL one statement committed on its own, on SQLite one
transaction; the same refusals in the same order as the send in steps (403, opted out, 429), and nothing
written by a refused send: no message, no job, no position, no rate taken. The sends of an account arriving
together share the statement (SQLite: the transaction and its statements), each with its own outcome, as if
sent one after another in the order they arrived."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from telroute.accounts.model import Account, rate_bucket
from telroute.bootstrap import Deps
from telroute.config import Prices
from telroute.errors import BadRequest, Forbidden, TooManyRequests
from telroute.kit.db import sql, writes_with_ctes
from telroute.messages import model, opt_outs, repository, service
from telroute.messages.send_batches import SendBatches
from telroute.messages.service import SendRequest
from tests.support.number_owner import account_owning

T0 = 1_700_000_000_000_000
OURS = "12065550181"
THEIRS = "12065550182"  # owned by another account
SUBSCRIBER = "13125550123"
_MESSAGES = sql("SELECT seq, status, body, from_number, to_number, segments FROM messages WHERE account_id = :a")
_JOBS = sql("SELECT COUNT(*) FROM jobs WHERE kind = :kind AND payload LIKE :payload")


def statements_of(deps: Deps, *, alone: bool) -> tuple[int, int]:
    """Statements and transactions of a send alone, or of a batch of sends: on PostgreSQL one statement; on
    SQLite the senders, the rate (one take alone, a read and a write for a batch), the position, the
    messages and their jobs."""
    if writes_with_ctes(deps.db):
        return (1, 1)
    return (5, 1) if alone else (6, 1)


async def new_account(deps: Deps, name: str, number: str, *, per_second: int) -> Account:
    return await account_owning(deps, name, number, per_second=per_second, now=T0)


@pytest.fixture
async def deps(isolated_deps: Deps) -> Deps:
    return isolated_deps


def request(from_: str = OURS, to: str = SUBSCRIBER, body: str = "hello") -> SendRequest:
    return service.validate_send({"from": from_, "to": to, "body": body}, "/data/attributes")


async def send_at_once(
    deps: Deps, account: Account, sent: SendRequest, *, now: int = T0, batches: SendBatches | None = None
) -> str:
    """As the send endpoint does it."""
    sender = service.normalized_sender(sent.from_)
    public_id = model.new_message_id()
    outcome = await (batches or SendBatches(deps.db, lambda: now)).accept(
        account, sent, sender, public_id, prices=Prices(), api_version="2.1"
    )
    await service.refuse_unless_accepted(deps.db, account, sent, outcome, pointer="/data/attributes")
    return public_id


async def send_together(deps: Deps, account: Account, sends: list[SendRequest]) -> list[str | BaseException]:
    """`sends` submitted in one event-loop turn, as concurrent requests arrive: each one's id or error."""
    batches = SendBatches(deps.db, lambda: T0)
    together = [send_at_once(deps, account, sent, batches=batches) for sent in sends]
    return list(await asyncio.gather(*together, return_exceptions=True))


async def stored(deps: Deps, account: Account) -> list[dict[str, Any]]:
    return [dict(row) for row in await deps.db.fetch(_MESSAGES, {"a": account.id})]


async def delivery_jobs(deps: Deps) -> int:
    return int(await deps.db.fetchval(_JOBS, {"kind": service.DELIVER_MESSAGE, "payload": '{"message_id"%'}))


async def test_an_accepted_send_is_one_statement_and_one_transaction(deps: Deps) -> None:
    account = await new_account(deps, "once", OURS, per_second=5)
    statements, transactions = deps.db.counted.statements, deps.db.counted.transactions
    public_id = await send_at_once(deps, account, request())
    counted = (deps.db.counted.statements - statements, deps.db.counted.transactions - transactions)
    assert counted == statements_of(deps, alone=True)
    message = await repository.by_public_id(deps.db, public_id, account.id)
    assert message is not None
    assert (message["status"], message["from_number"], message["to_number"]) == (model.QUEUED, OURS, SUBSCRIBER)
    assert (message["created_at_us"], message["api_version"], message["direction"]) == (T0, "2.1", "outbound")
    assert await delivery_jobs(deps) == 1


async def test_it_writes_the_row_the_send_in_steps_writes(deps: Deps) -> None:
    account = await new_account(deps, "same", OURS, per_second=5)
    sent = request(body="x" * 200)  # two segments
    await send_at_once(deps, account, sent)
    async with deps.db.transaction() as connection:
        sender = await service.check_sender(connection, account, sent.from_, sent.to)
        await service.take_rate(connection, account, False, now=T0)
        await service.accept(
            connection, account, sent, sender.number, [], model.new_message_id(), prices=Prices(), now=T0
        )
    once, in_steps = await stored(deps, account)
    assert (once["seq"], in_steps["seq"]) == (1, 2)
    assert {**once, "seq": None} == {**in_steps, "seq": None}
    assert once["segments"] == 2


async def test_a_refused_rate_writes_nothing_and_keeps_the_positions_gapless(deps: Deps) -> None:
    account = await new_account(deps, "rate", OURS, per_second=1)
    await send_at_once(deps, account, request())
    with pytest.raises(TooManyRequests) as refused:
        await send_at_once(deps, account, request(), now=T0 + 250_000)
    assert refused.value.detail == "rate limit exceeded: at most 1 SMS per second"
    assert refused.value.retry_after == pytest.approx(0.75)
    assert [row["seq"] for row in await stored(deps, account)] == [1]
    assert await delivery_jobs(deps) == 1
    await send_at_once(deps, account, request(), now=T0 + 1_000_000)
    assert [row["seq"] for row in await stored(deps, account)] == [1, 2]


async def test_a_number_of_another_account_or_none_is_403_and_takes_no_rate(deps: Deps) -> None:
    account = await new_account(deps, "ours", OURS, per_second=1)
    await new_account(deps, "theirs", THEIRS, per_second=1)
    for sender in (THEIRS, "12065550199", "not a number"):
        with pytest.raises(Forbidden) as refused:
            await send_at_once(deps, account, request(from_=sender))
        assert refused.value.detail == f"from number {sender} is not a number on this account"
    assert await stored(deps, account) == []
    await send_at_once(deps, account, request())  # the one-a-second burst is still whole


async def test_a_subscriber_who_opted_out_is_refused_before_the_rate(deps: Deps) -> None:
    account = await new_account(deps, "stop", OURS, per_second=1)
    async with deps.db.transaction() as connection:
        assert await repository.add_opt_out(connection, ours=OURS, subscriber=SUBSCRIBER, now=T0)
    with pytest.raises(BadRequest) as refused:
        await send_at_once(deps, account, request())
    assert refused.value.code == opt_outs.OPTED_OUT_CODE
    assert refused.value.pointer == "/data/attributes/to"
    assert await stored(deps, account) == []
    await send_at_once(deps, account, request(to="13125550124"))  # the rate was not taken
    assert [row["to_number"] for row in await stored(deps, account)] == ["13125550124"]


async def test_sends_arriving_together_are_one_statement_in_the_order_they_arrived(deps: Deps) -> None:
    account = await new_account(deps, "together", OURS, per_second=50)
    statements, transactions = deps.db.counted.statements, deps.db.counted.transactions
    bodies = [f"message {n}" for n in range(20)]
    public_ids = await send_together(deps, account, [request(body=body) for body in bodies])
    counted = (deps.db.counted.statements - statements, deps.db.counted.transactions - transactions)
    assert counted == statements_of(deps, alone=False)
    rows = await stored(deps, account)
    assert [(row["seq"], row["body"]) for row in rows] == list(enumerate(bodies, start=1))
    for public_id, body in zip(public_ids, bodies, strict=True):
        assert isinstance(public_id, str)
        message = await repository.by_public_id(deps.db, public_id, account.id)
        assert message is not None and message["body"] == body
    assert await delivery_jobs(deps) == 20


async def test_the_rate_lets_the_first_of_a_batch_through_and_refuses_the_rest(deps: Deps) -> None:
    account = await new_account(deps, "burst", OURS, per_second=3)
    outcomes = await send_together(deps, account, [request(body=f"message {n}") for n in range(5)])
    assert [isinstance(outcome, str) for outcome in outcomes] == [True, True, True, False, False]
    for refused in outcomes[3:]:
        assert isinstance(refused, TooManyRequests)
        assert refused.retry_after == pytest.approx(1 / 3, abs=0.01)
    assert [(row["seq"], row["body"]) for row in await stored(deps, account)] == [
        (1, "message 0"),
        (2, "message 1"),
        (3, "message 2"),
    ]
    assert await delivery_jobs(deps) == 3


async def test_a_batch_takes_what_the_sends_before_it_left_of_the_burst(deps: Deps) -> None:
    account = await new_account(deps, "after", OURS, per_second=3)
    await send_at_once(deps, account, request(body="alone"))
    outcomes = await send_together(deps, account, [request(body=f"message {n}") for n in range(4)])
    assert [isinstance(outcome, str) for outcome in outcomes] == [True, True, False, False]
    later = await send_together(deps, account, [request(body="later")])  # a third of a second on: one more
    assert isinstance(later[0], TooManyRequests)
    batches = SendBatches(deps.db, lambda: T0 + 340_000)
    [one_more, refused] = await asyncio.gather(
        *(send_at_once(deps, account, request(body=body), batches=batches) for body in ("next", "refused")),
        return_exceptions=True,
    )
    assert isinstance(one_more, str) and isinstance(refused, TooManyRequests)
    assert [row["body"] for row in await stored(deps, account)] == ["alone", "message 0", "message 1", "next"]


async def test_each_send_of_a_batch_gets_its_own_refusal_and_refused_ones_take_no_rate(deps: Deps) -> None:
    account = await new_account(deps, "mixed", OURS, per_second=2)
    await new_account(deps, "other", THEIRS, per_second=2)
    async with deps.db.transaction() as connection:
        assert await repository.add_opt_out(connection, ours=OURS, subscriber="13125550999", now=T0)
    sends = [
        request(from_=THEIRS, body="not ours"),
        request(body="first"),
        request(to="13125550999", body="opted out"),
        request(body="second"),
    ]
    outcomes = await send_together(deps, account, sends)
    assert isinstance(outcomes[0], Forbidden) and isinstance(outcomes[2], BadRequest)
    assert outcomes[2].code == opt_outs.OPTED_OUT_CODE
    assert isinstance(outcomes[1], str) and isinstance(outcomes[3], str)
    assert [(row["seq"], row["body"]) for row in await stored(deps, account)] == [(1, "first"), (2, "second")]


@pytest.mark.postgres_only  # SQLite's transactions run one at a time: no statement runs meanwhile
async def test_a_bucket_created_meanwhile_by_another_statement_is_judged_again(deps: Deps) -> None:
    """The account's bucket has no row; another statement creates it, spent, while the send runs: the send's
    statement wrote nothing, so it runs again and is refused by that bucket."""
    account = await new_account(deps, "race", OURS, per_second=1)
    statements = deps.db.counted.statements
    async with deps.db.transaction() as connection:
        await connection.execute(
            sql("INSERT INTO rate_limits (bucket, tat_us) VALUES (:bucket, :tat)"),
            {"bucket": rate_bucket("sms", account.id), "tat": T0 + 500_000},
        )
        sending = asyncio.create_task(send_at_once(deps, account, request()))
        await asyncio.sleep(0.3)  # the send's statement now waits for this transaction's row
        assert not sending.done()
    with pytest.raises(TooManyRequests) as refused:
        await sending
    assert refused.value.retry_after == pytest.approx(0.5)
    assert deps.db.counted.statements - statements == 1 + 2 + 1  # the insert; the send twice; the Retry-After
    assert await stored(deps, account) == []
