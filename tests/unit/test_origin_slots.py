"""Per-origin request slots: N in flight, a short queue, a bounded wait, and nothing shared between origins."""

from __future__ import annotations

import asyncio
import itertools
import time

import pytest

from telroute.kit.origin_slots import OriginBusy, OriginSlots, origin_of


def test_an_origin_is_scheme_host_and_port_with_the_default_port_filled_in() -> None:
    assert origin_of("http://Example.com/a?b") == ("http", "example.com", 80)
    assert origin_of("https://example.com:443/x") == origin_of("https://EXAMPLE.com/y") == ("https", "example.com", 443)
    assert origin_of("http://127.0.0.1:8080/x") != origin_of("http://127.0.0.1:8081/x")


async def hold(slots: OriginSlots, url: str, release: asyncio.Event, started: list[str]) -> None:
    async with slots.slot(url):
        started.append(url)
        await release.wait()


async def test_at_most_n_hold_a_slot_and_the_next_waits_for_one_to_free() -> None:
    slots = OriginSlots(2, queue=1, wait=5.0)
    release, started = asyncio.Event(), list[str]()
    holders = [asyncio.create_task(hold(slots, "http://a/", release, started)) for _ in range(3)]
    await asyncio.sleep(0.05)
    assert len(started) == 2  # the third waits
    release.set()
    await asyncio.gather(*holders)
    assert len(started) == 3
    assert slots.in_use("http://a/") == 0


async def test_a_full_queue_is_busy_at_once_and_other_origins_are_not_affected() -> None:
    slots = OriginSlots(1, queue=1, wait=5.0)
    release, started = asyncio.Event(), list[str]()
    holders = [asyncio.create_task(hold(slots, "http://a/", release, started)) for _ in range(2)]
    await asyncio.sleep(0.05)
    began = time.monotonic()
    with pytest.raises(OriginBusy, match="1 requests in flight and 1 waiting"):
        async with slots.slot("http://a/other-path"):
            pass
    assert time.monotonic() - began < 0.1
    async with slots.slot("http://b/"):  # another origin has its own slots
        started.append("b")
    release.set()
    await asyncio.gather(*holders)
    assert started == ["http://a/", "b", "http://a/"]


async def test_a_wait_longer_than_allowed_is_busy_and_gives_its_place_up() -> None:
    slots = OriginSlots(1, queue=1, wait=0.1)
    release, started = asyncio.Event(), list[str]()
    holder = asyncio.create_task(hold(slots, "http://a/", release, started))
    await asyncio.sleep(0.01)
    began = time.monotonic()
    with pytest.raises(OriginBusy, match=r"within 0\.1 s"):
        async with slots.slot("http://a/"):
            pass
    assert 0.09 <= time.monotonic() - began < 0.5
    assert slots.in_use("http://a/") == 1  # the holder only
    release.set()
    await holder
    async with slots.slot("http://a/"):
        pass


async def test_refused_requests_are_told_to_come_back_spread_over_the_time_the_origin_needs() -> None:
    slots = OriginSlots(2, queue=0, wait=5.0)
    release, started = asyncio.Event(), list[str]()
    loop = asyncio.get_running_loop()
    loop.call_later(0.2, release.set)
    began = loop.time()
    await asyncio.gather(*(hold(slots, "http://a/", release, started) for _ in range(2)))
    took = loop.time() - began  # 0.2 s a request; more when a loaded machine runs the timer late
    release.clear()
    holders = [asyncio.create_task(hold(slots, "http://a/", release, started)) for _ in range(2)]
    await asyncio.sleep(0.01)
    delays = []
    for _ in range(5):
        with pytest.raises(OriginBusy) as refused:
            async with slots.slot("http://a/"):
                pass
        delays.append(refused.value.retry_after)
    release.set()
    await asyncio.gather(*holders)
    # the first soon, then one per (time a request took) / 2 slots: as fast as the origin answers, no faster
    assert delays[0] == pytest.approx(0.5, abs=0.01)
    gaps = [later - earlier for earlier, later in itertools.pairwise(delays)]
    assert gaps == pytest.approx([took / 2] * 4, abs=0.02)


async def test_requests_that_hang_space_the_comebacks_before_any_of_them_ends() -> None:
    slots = OriginSlots(2, queue=0, wait=5.0)
    release, started = asyncio.Event(), list[str]()
    holders = [asyncio.create_task(hold(slots, "http://a/", release, started)) for _ in range(2)]
    await asyncio.sleep(0.3)
    delays = []
    for _ in range(3):
        with pytest.raises(OriginBusy) as refused:
            async with slots.slot("http://a/"):
                pass
        delays.append(refused.value.retry_after)
    release.set()
    await asyncio.gather(*holders)
    gaps = [later - earlier for earlier, later in itertools.pairwise(delays)]
    # 0.3 s in flight so far / 2 slots; the low end allows the clock's read a millisecond early
    assert all(0.14 <= gap < 0.25 for gap in gaps), gaps


async def quick(slots: OriginSlots, url: str) -> None:
    async with slots.slot(url):
        await asyncio.sleep(0)


async def test_an_origin_that_answers_fast_may_have_a_longer_queue_and_a_slow_one_may_not() -> None:
    slots = OriginSlots(2, queue=1, wait=5.0)
    for _ in range(10):  # the fast origin's pace: a loop turn a request (under 10 ms even on a loaded machine)
        await quick(slots, "http://fast/")
    await asyncio.gather(*(quick(slots, "http://fast/") for _ in range(12)))  # 2 in flight, 10 waiting
    release, started = asyncio.Event(), list[str]()
    holders = [asyncio.create_task(hold(slots, "http://slow/", release, started)) for _ in range(3)]
    await asyncio.sleep(0.1)  # in flight for 0.1 s: slow
    with pytest.raises(OriginBusy, match="2 requests in flight and 1 waiting"):
        async with slots.slot("http://slow/"):
            pass
    release.set()
    await asyncio.gather(*holders)


def test_fewer_than_one_slot_is_refused() -> None:
    with pytest.raises(ValueError):
        OriginSlots(0, queue=0, wait=1.0)
