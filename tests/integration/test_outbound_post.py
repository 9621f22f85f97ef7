"""OutboundHttp.post (callbacks) against a real HTTP/1.1 server: kept-alive connections, at most N per
receiver, a wait for one that is not part of the request's timeout, and replies that never finish."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable, Iterator

import pytest

from telroute.kit.addresses import AddressPolicy
from telroute.kit.origin_slots import OriginBusy
from telroute.kit.outbound import OutboundError, OutboundHttp
from tests.support.fault_receiver import Answer, FaultReceiver, Hang, Stall

BODY = b'{"data": {}}'
HEADERS = {"Content-Type": "application/json"}


async def until(predicate: Callable[[], bool], *, timeout: float, what: str) -> None:
    """Poll without blocking the loop (the client's sockets close on its next turns)."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"not within {timeout} s: {what}")
        await asyncio.sleep(0.01)


@pytest.fixture
def receiver() -> Iterator[FaultReceiver]:
    with FaultReceiver() as running:
        yield running


@pytest.fixture
async def one_per_receiver() -> AsyncIterator[OutboundHttp]:
    client = OutboundHttp(policy=AddressPolicy(allow_private=True), timeout=0.5, per_receiver=1, slot_wait=5.0)
    yield client
    await client.close()


async def test_posts_to_one_receiver_reuse_one_kept_alive_connection(receiver: FaultReceiver) -> None:
    client = OutboundHttp(policy=AddressPolicy(allow_private=True), timeout=5.0)
    try:
        statuses = [(await client.post(receiver.url("/hook"), BODY, HEADERS)).status for _ in range(10)]
    finally:
        await client.close()
    assert statuses == [200] * 10
    assert len(receiver.requests("/hook")) == 10
    assert len(receiver.connections) == 1


async def test_waiting_for_a_connection_is_not_part_of_the_timeout(
    receiver: FaultReceiver, one_per_receiver: OutboundHttp
) -> None:
    receiver.behave("/slow", Answer(200, delay=0.3))  # one after the other, the second ends 0.6 s in
    began = time.monotonic()
    posted = await asyncio.gather(*(one_per_receiver.post(receiver.url("/slow"), BODY, HEADERS) for _ in range(2)))
    assert time.monotonic() - began >= 0.6  # past the timeout of 0.5 s
    assert [item.status for item in posted] == [200, 200]
    assert all(0.3 <= item.seconds < 0.5 for item in posted), posted  # each measured from its own start
    assert receiver.max_open == 1
    assert len(receiver.requests("/slow")) == 2


async def test_past_n_in_flight_and_n_waiting_a_post_is_refused_before_anything_is_sent(
    receiver: FaultReceiver,
) -> None:
    client = OutboundHttp(policy=AddressPolicy(allow_private=True), timeout=5.0, per_receiver=1, slot_wait=5.0)
    receiver.behave("/hang", Hang())
    try:
        first = asyncio.create_task(client.post(receiver.url("/hang"), BODY, HEADERS))
        queued = asyncio.create_task(client.post(receiver.url("/hang"), BODY, HEADERS))
        await asyncio.sleep(0.2)
        began = time.monotonic()
        for path in ("/hang", "/another-path-of-the-same-origin"):
            with pytest.raises(OriginBusy, match="1 requests in flight and 1 waiting"):
                await client.post(receiver.url(path), BODY, HEADERS)
        assert time.monotonic() - began < 0.1  # refused at once, not after a wait
    finally:
        receiver.release()
    assert [(await task).status for task in (first, queued)] == [200, 200]
    await client.close()
    assert [request.path for request in receiver.requests()] == ["/hang", "/hang"]


async def test_another_receiver_is_not_queued_behind_a_busy_one(one_per_receiver: OutboundHttp) -> None:
    with FaultReceiver() as busy, FaultReceiver() as idle:
        busy.behave("/hook", Hang())
        held = [asyncio.create_task(one_per_receiver.post(busy.url("/hook"), BODY, HEADERS)) for _ in range(2)]
        await asyncio.sleep(0.1)
        began = time.monotonic()
        assert (await one_per_receiver.post(idle.url("/hook"), BODY, HEADERS)).status == 200
        assert time.monotonic() - began < 0.3
        busy.release()
        await asyncio.gather(*held, return_exceptions=True)


async def test_a_2xx_whose_body_stalls_still_counts_and_its_connection_is_closed(
    receiver: FaultReceiver, one_per_receiver: OutboundHttp
) -> None:
    receiver.behave("/stall", Stall())
    posted = await one_per_receiver.post(receiver.url("/stall"), BODY, HEADERS)
    assert posted.status == 200
    assert 0.45 <= posted.seconds < 1.0  # the body was waited for until the timeout, no longer
    await until(lambda: receiver.open_now == 0, timeout=2, what="the stalled connection closed")
    assert (await one_per_receiver.post(receiver.url("/next"), BODY, HEADERS)).status == 200
    assert len(receiver.connections) == 2  # the half-read connection was not reused


async def test_a_timeout_reports_how_long_the_try_took(receiver: FaultReceiver, one_per_receiver: OutboundHttp) -> None:
    receiver.behave("/hang", Hang())
    with pytest.raises(OutboundError, match="timed out") as raised:
        await one_per_receiver.post(receiver.url("/hang"), BODY, HEADERS)
    assert raised.value.seconds is not None and 0.45 <= raised.value.seconds < 1.0
