"""A console's `Watch`: it hands over the newest marker only, wakes its waiting stream at once when one is
offered, and gives None when nothing came within the wait or when it is woken without one (shutdown)."""

from __future__ import annotations

import asyncio
import time

from telroute.console.notifier import Watch


async def test_a_waiting_stream_gets_an_offered_marker_at_once() -> None:
    watch = Watch()
    waiting = asyncio.create_task(watch.next(5.0))
    await asyncio.sleep(0.01)
    started = time.monotonic()
    watch.offer((1, 7))
    assert await waiting == (1, 7)
    assert time.monotonic() - started < 1.0


async def test_only_the_newest_marker_is_handed_over_and_only_once() -> None:
    watch = Watch()
    watch.offer((1, 1))
    watch.offer((2, 5))
    assert await watch.next(1.0) == (2, 5)
    assert await watch.next(0.05) is None


async def test_a_quiet_wait_ends_with_none_after_its_timeout() -> None:
    started = time.monotonic()
    assert await Watch().next(0.1) is None
    assert time.monotonic() - started >= 0.09


async def test_wake_without_a_marker_ends_the_wait_with_none() -> None:
    watch = Watch()
    waiting = asyncio.create_task(watch.next(5.0))
    await asyncio.sleep(0.01)
    watch.wake()
    assert await asyncio.wait_for(waiting, 1.0) is None
