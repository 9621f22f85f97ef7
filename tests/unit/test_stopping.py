"""`stopped_within`: a background loop's pause, cut short when its process stops."""

from __future__ import annotations

import asyncio
import time

from telroute.kit.stopping import stopped_within


async def test_it_waits_the_whole_pause_while_nothing_stops() -> None:
    started = time.monotonic()
    assert await stopped_within(asyncio.Event(), 0.05) is False
    assert time.monotonic() - started >= 0.04


async def test_it_returns_as_soon_as_the_stop_is_set() -> None:
    stop = asyncio.Event()
    asyncio.get_running_loop().call_later(0.02, stop.set)
    started = time.monotonic()
    assert await stopped_within(stop, 30.0) is True
    assert time.monotonic() - started < 5.0
