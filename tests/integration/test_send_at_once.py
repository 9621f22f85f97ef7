"""PostgreSQL's send in one statement (`service.accept_at_once`): one statement committed on its own, the
same refusals in the same order as the send in steps (403, opted out, 429), and nothing written by a refused
send: no message, no job, no position, no rate taken."""

from __future__ import annotations

from typing import Any

import pytest

from telroute.accounts import repository as accounts_repository
from telroute.accounts import service as accounts_service
from telroute.accounts.model import Account
from telroute.bootstrap import Deps
from telroute.config import Prices
from telroute.errors import BadRequest, Forbidden, TooManyRequests
from telroute.kit.db import sql
from telroute.messages import model, opt_outs, repository, service
from telroute.messages.service import SendRequest
from telroute.numbers import repository as numbers_repository
from telroute.numbers import service as numbers_service
from telroute.numbers.inventory import InventoryRow

pytestmark = pytest.mark.postgres_only

T0 = 1_700_000_000_000_000
OURS = "12065550181"
THEIRS = "12065550182"  # owned by another account
SUBSCRIBER = "13125550123"
_MESSAGES = sql("SELECT seq, status, body, from_number, to_number, segments FROM messages WHERE account_id = :a")
_JOBS = sql("SELECT COUNT(*) FROM jobs WHERE kind = :kind AND payload LIKE :payload")


async def new_account(deps: Deps, name: str, number: str, *, per_second: int) -> Account:
    async with deps.db.transaction() as connection:
        keys = await accounts_service.create(connection, name, now=T0)
        await accounts_service.set_limits(connection, keys.access_key, per_second, per_second)
        found = await accounts_repository.by_access_key(connection, keys.access_key)
        assert found is not None
        row = InventoryRow(number, "206", "555", "WA", "SEATTLE", "standard", 1_000_000_000, 1_000_000_000)
        await numbers_service.add_inventory(connection, [row])
        assert await numbers_repository.purchase(connection, number, found[0].id, cnam=True, messaging=True, now=T0)
        return await accounts_service.authenticate(connection, (keys.access_key, keys.secret_key))


@pytest.fixture
async def deps(isolated_deps: Deps) -> Deps:
    return isolated_deps


def request(from_: str = OURS, to: str = SUBSCRIBER, body: str = "hello") -> SendRequest:
    return service.validate_send({"from": from_, "to": to, "body": body}, "/data/attributes")


async def send_at_once(deps: Deps, account: Account, sent: SendRequest, *, now: int = T0) -> str:
    """As the send endpoint does it."""
    sender = service.normalized_sender(sent.from_)
    public_id = model.new_message_id()
    async with deps.db.alone() as connection:
        outcome = await service.accept_at_once(
            connection, account, sent, sender, public_id, prices=Prices(), clock=lambda: now, api_version="2.1"
        )
    await service.refuse_unless_accepted(deps.db, account, sent, outcome, pointer="/data/attributes")
    return public_id


async def stored(deps: Deps, account: Account) -> list[dict[str, Any]]:
    return [dict(row) for row in await deps.db.fetch(_MESSAGES, {"a": account.id})]


async def delivery_jobs(deps: Deps) -> int:
    return int(await deps.db.fetchval(_JOBS, {"kind": service.DELIVER_MESSAGE, "payload": '{"message_id"%'}))


async def test_an_accepted_send_is_one_statement_and_one_transaction(deps: Deps) -> None:
    account = await new_account(deps, "once", OURS, per_second=5)
    statements, transactions = deps.db.counted.statements, deps.db.counted.transactions
    public_id = await send_at_once(deps, account, request())
    assert (deps.db.counted.statements - statements, deps.db.counted.transactions - transactions) == (1, 1)
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
