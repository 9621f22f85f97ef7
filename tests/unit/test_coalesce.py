"""The Coalescer: concurrent callers share flushes, each gets its own result, failures reach every caller."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

import pytest

from telroute.kit.coalesce import Coalescer, lookup


class Doubler:
    def __init__(self, *, pause: float = 0.0, fail_on: int | None = None) -> None:
        self.batches: list[list[int]] = []
        self._pause = pause
        self._fail_on = fail_on

    async def __call__(self, items: Sequence[int]) -> list[int]:
        self.batches.append(list(items))
        await asyncio.sleep(self._pause)
        if self._fail_on in items:
            raise LookupError(f"no {self._fail_on}")
        return [item * 2 for item in items]


async def test_callers_of_one_turn_share_one_flush_and_get_their_own_results() -> None:
    flush = Doubler()
    coalescer = Coalescer(flush)
    assert await asyncio.gather(*(coalescer.submit(item) for item in range(5))) == [0, 2, 4, 6, 8]
    assert flush.batches == [[0, 1, 2, 3, 4]]


async def test_callers_that_arrive_during_a_flush_share_the_next_one() -> None:
    flush = Doubler(pause=0.05)
    coalescer = Coalescer(flush)
    first = asyncio.create_task(coalescer.submit(1))
    await asyncio.sleep(0.01)  # the first flush is running
    later = [asyncio.create_task(coalescer.submit(item)) for item in (2, 3, 4)]
    assert await asyncio.gather(first, *later) == [2, 4, 6, 8]
    assert flush.batches == [[1], [2, 3, 4]]


async def test_a_lone_caller_is_flushed_at_once_and_the_coalescer_goes_idle_after() -> None:
    flush = Doubler()
    coalescer = Coalescer(flush)
    assert await coalescer.submit(7) == 14
    assert await coalescer.submit(8) == 16
    assert flush.batches == [[7], [8]]


async def test_gathering_callers_of_a_moment_share_one_flush() -> None:
    """With `gather`, items of later turns within the moment join the first flush; without, they do not."""

    async def submit_over_turns(coalescer: Coalescer[int, int]) -> list[int]:
        calls = []
        for item in range(4):
            calls.append(asyncio.create_task(coalescer.submit(item)))
            await asyncio.sleep(0.005)
        return await asyncio.gather(*calls)

    gathered, at_once = Doubler(), Doubler()
    assert await submit_over_turns(Coalescer(gathered, gather=0.5)) == [0, 2, 4, 6]
    assert await submit_over_turns(Coalescer(at_once)) == [0, 2, 4, 6]
    assert gathered.batches == [[0, 1, 2, 3]]
    assert at_once.batches == [[0], [1], [2], [3]]


async def test_a_flush_takes_at_most_limit_items() -> None:
    flush = Doubler()
    coalescer = Coalescer(flush, limit=2)
    assert await asyncio.gather(*(coalescer.submit(item) for item in range(5))) == [0, 2, 4, 6, 8]
    assert flush.batches == [[0, 1], [2, 3], [4]]


async def test_a_failed_flush_fails_its_callers_only() -> None:
    flush = Doubler(pause=0.02, fail_on=2)
    coalescer = Coalescer(flush)
    first = [asyncio.create_task(coalescer.submit(item)) for item in (1, 2)]
    await asyncio.sleep(0.01)
    later = asyncio.create_task(coalescer.submit(3))
    for task in first:
        with pytest.raises(LookupError, match="no 2"):
            await task
    assert await later == 6


async def test_a_cancelled_caller_does_not_stop_the_flush_for_the_others() -> None:
    flush = Doubler(pause=0.02)
    coalescer = Coalescer(flush)
    cancelled = asyncio.create_task(coalescer.submit(1))
    kept = asyncio.create_task(coalescer.submit(2))
    await asyncio.sleep(0.005)
    cancelled.cancel()
    assert await kept == 4
    assert flush.batches == [[1, 2]]
    assert cancelled.cancelled()


async def test_a_flush_with_the_wrong_number_of_results_fails_its_callers() -> None:
    async def short(items: Sequence[int]) -> list[int]:
        return list(items)[1:]

    coalescer: Coalescer[int, int] = Coalescer(short)
    with pytest.raises(RuntimeError, match="2 items returned 1"):
        await asyncio.gather(coalescer.submit(1), coalescer.submit(2))


async def test_a_lookup_reads_each_distinct_key_once_and_gives_none_for_a_missing_one() -> None:
    reads: list[list[str]] = []

    async def read(keys: list[str]) -> dict[str, int]:
        reads.append(keys)
        return {key: len(key) for key in keys if key != "gone"}

    found = lookup(read)
    assert await asyncio.gather(*(found.submit(key) for key in ("ab", "gone", "ab", "abc"))) == [2, None, 2, 3]
    assert reads == [["ab", "gone", "abc"]]


async def test_it_is_idle_only_when_nothing_waits_or_flushes() -> None:
    coalescer = Coalescer(Doubler(pause=0.02))
    assert coalescer.idle
    running = asyncio.create_task(coalescer.submit(1))
    await asyncio.sleep(0)
    assert not coalescer.idle
    await asyncio.sleep(0.01)  # flushing
    assert not coalescer.idle
    assert await running == 2
    assert coalescer.idle
