"""GCRA rate limits against the real database: exact allowances and Retry-After at explicit times."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Callable

import pytest

from telroute.accounts import service as accounts_service
from telroute.accounts.model import rate_bucket
from telroute.bootstrap import Deps
from telroute.errors import TooManyRequests
from telroute.kit import ratelimit

T0 = 1_700_000_000_000_000  # an arbitrary "now" in microseconds


def bucket() -> str:
    return f"test:{uuid.uuid4().hex}"  # the PostgreSQL pass shares one database across tests


async def allowed(deps: Deps, name: str, per_second: int, now: int | Callable[[], int]) -> bool:
    """One take in its own transaction, as the send endpoint does; False when it was refused."""
    try:
        async with deps.db.transaction() as connection:
            await ratelimit.take(connection, name, per_second=per_second, now=now, what="SMS")
    except TooManyRequests:
        return False
    return True


async def refusal(deps: Deps, name: str, per_second: int, now: int) -> TooManyRequests:
    with pytest.raises(TooManyRequests) as caught:
        async with deps.db.transaction() as connection:
            await ratelimit.take(connection, name, per_second=per_second, now=now, what="SMS")
    return caught.value


async def test_a_burst_of_exactly_one_seconds_worth_then_refusal(deps: Deps) -> None:
    name = bucket()
    assert [await allowed(deps, name, 5, T0) for _ in range(5)] == [True] * 5
    error = await refusal(deps, name, 5, T0)
    assert error.status == 429
    assert error.code == "rate_limited"
    assert error.detail == "rate limit exceeded: at most 5 SMS per second"
    assert error.retry_after == pytest.approx(0.2)
    assert error.headers == {"Retry-After": "1"}


async def test_new_limits_start_the_accounts_buckets_afresh(deps: Deps) -> None:
    """Five sends at 5/s owe a whole second; at 50/s they cost a tenth of one: raised limits hold at once."""
    async with deps.db.transaction() as connection:
        keys = await accounts_service.create(connection, "limits", now=T0)
        account = await accounts_service.authenticate(connection, (keys.access_key, keys.secret_key))
    sms = rate_bucket("sms", account.id)
    assert [await allowed(deps, sms, 5, T0) for _ in range(6)] == [True] * 5 + [False]
    async with deps.db.transaction() as connection:
        await accounts_service.set_limits(connection, keys.access_key, 50, None)
    assert [await allowed(deps, sms, 50, T0) for _ in range(51)] == [True] * 50 + [False]


async def test_one_more_is_allowed_exactly_one_interval_later(deps: Deps) -> None:
    name = bucket()
    for _ in range(5):
        assert await allowed(deps, name, 5, T0)
    error = await refusal(deps, name, 5, T0 + 199_999)
    assert error.retry_after == pytest.approx(0.001)  # 1 µs to go, reported as at least a millisecond
    assert await allowed(deps, name, 5, T0 + 200_000)
    assert not await allowed(deps, name, 5, T0 + 200_000)
    assert await allowed(deps, name, 5, T0 + 400_000)
    assert not await allowed(deps, name, 5, T0 + 400_000)


async def test_refused_requests_take_nothing(deps: Deps) -> None:
    name = bucket()
    for _ in range(5):
        assert await allowed(deps, name, 5, T0)
    for offset in range(0, 200_000, 20_000):
        assert not await allowed(deps, name, 5, T0 + offset)
    assert await allowed(deps, name, 5, T0 + 200_000)


async def test_idle_time_refills_only_up_to_the_burst(deps: Deps) -> None:
    name = bucket()
    assert await allowed(deps, name, 5, T0)
    later = T0 + 60_000_000
    assert [await allowed(deps, name, 5, later) for _ in range(6)] == [True] * 5 + [False]


async def test_steady_rate_at_the_limit_is_never_refused(deps: Deps) -> None:
    name = bucket()
    assert all([await allowed(deps, name, 5, T0 + index * 200_000) for index in range(50)])
    # a steady rate leaves the rest of the burst: four more at the same instant, then refusal
    last = T0 + 49 * 200_000
    assert [await allowed(deps, name, 5, last) for _ in range(5)] == [True] * 4 + [False]


@pytest.mark.parametrize(
    ("per_second", "interval", "retry_after"),
    [(1, 1_000_000, 1.0), (3, 333_333, 0.333333), (7, 142_857, 0.142857), (50, 20_000, 0.02)],
)
async def test_other_rates(deps: Deps, per_second: int, interval: int, retry_after: float) -> None:
    name = bucket()
    assert [await allowed(deps, name, per_second, T0) for _ in range(per_second + 1)] == [True] * per_second + [False]
    error = await refusal(deps, name, per_second, T0)
    assert error.retry_after == pytest.approx(retry_after)
    assert error.headers == {"Retry-After": "1"}
    assert not await allowed(deps, name, per_second, T0 + interval - 1)
    assert await allowed(deps, name, per_second, T0 + interval)


async def test_buckets_are_independent(deps: Deps) -> None:
    first, second = bucket(), bucket()
    assert await allowed(deps, first, 1, T0)
    assert not await allowed(deps, first, 1, T0)
    assert await allowed(deps, second, 1, T0)


async def test_a_zero_rate_is_taken_as_one_per_second(deps: Deps) -> None:
    name = bucket()
    assert await allowed(deps, name, 0, T0)
    assert not await allowed(deps, name, 0, T0 + 999_999)
    assert await allowed(deps, name, 0, T0 + 1_000_000)


async def test_a_rolled_back_take_is_given_back(deps: Deps) -> None:
    name = bucket()

    class Boom(Exception):
        pass

    with pytest.raises(Boom):
        async with deps.db.transaction() as connection:
            await ratelimit.take(connection, name, per_second=1, now=T0, what="MMS")
            raise Boom
    assert await allowed(deps, name, 1, T0)
    error = await refusal(deps, name, 1, T0)
    assert error.detail == "rate limit exceeded: at most 1 SMS per second"


def wall_clock() -> int:
    return time.time_ns() // 1000


async def test_a_request_that_waited_for_the_bucket_is_judged_by_when_it_got_it(deps: Deps) -> None:
    """Five takes fill a 5/s bucket until about 200 ms after the first; a sixth that arrives at once but waits
    400 ms behind the fifth's open transaction is judged at the end of its wait, and allowed."""
    name = bucket()
    for _ in range(4):
        assert await allowed(deps, name, 5, wall_clock)
    holding = asyncio.Event()

    async def fifth_holding_the_row() -> None:
        async with deps.db.transaction() as connection:
            await ratelimit.take(connection, name, per_second=5, now=wall_clock, what="SMS")
            holding.set()
            await asyncio.sleep(0.4)

    fifth = asyncio.create_task(fifth_holding_the_row())
    await holding.wait()
    assert await allowed(deps, name, 5, wall_clock)
    await fifth
