"""CarrierRegistry against a real database and a real SMSC (tests/peers/smsc.js on the npm `smpp` package):
one worker binds each link (the lease), another takes over when the lease lapses, stored changes are
picked up while running, a graceful close unbinds and releases.

Carriers and routes are global settings, so these tests use a database of their own (on PostgreSQL a
fresh one), never the suite's shared one.
"""

from __future__ import annotations

import asyncio
import json
import shutil
import subprocess
import time
from collections.abc import Awaitable, Callable
from contextlib import AsyncExitStack
from dataclasses import dataclass, field
from typing import Any

import pytest

from telroute.bootstrap import Deps
from telroute.carriers import repository
from telroute.carriers.factory import build_carrier
from telroute.carriers.registry import CarrierRegistry
from telroute.carriers.routing import RoutingTable
from telroute.carriers.simulator import SimulatorCarrier
from telroute.messages.carrier_port import CarrierInbound, CarrierReceipt, OutboundMessage
from tests.integration.test_smpp_link import INSTALL_SCRIPT, PASSWORD, SYSTEM_ID, PeerEnv, SmscPeer, smsc


@pytest.fixture(scope="module")
def smsc_env() -> PeerEnv:
    node = shutil.which("node")
    if node is None:
        pytest.skip("CARRIER REGISTRY TESTS SKIPPED: `node` is not on PATH (scripts/test installs Node.js)")
    installed = subprocess.run([str(INSTALL_SCRIPT)], check=True, capture_output=True, text=True)
    return PeerEnv(node, installed.stdout.strip().splitlines()[-1])


@pytest.fixture
def deps(isolated_deps: Deps) -> Deps:
    return isolated_deps


@dataclass
class RecordingEvents:
    receipts: list[CarrierReceipt] = field(default_factory=list)
    messages: list[CarrierInbound] = field(default_factory=list)

    async def receipt(self, receipt: CarrierReceipt) -> None:
        self.receipts.append(receipt)

    async def inbound(self, message: CarrierInbound) -> None:
        self.messages.append(message)


def link_config(peer: SmscPeer, **changes: Any) -> str:
    config = {
        "host": "127.0.0.1",
        "port": peer.port,
        "system_id": SYSTEM_ID,
        "password": PASSWORD,
        "response_timeout": 2.0,
        "reconnect_max_delay": 0.5,
        **changes,
    }
    return json.dumps(config)


async def add_carrier(deps: Deps, name: str, config: str, kind: str = "smpp") -> None:
    async with deps.db.transaction() as connection:
        assert await repository.insert(connection, name=name, kind=kind, config=config, now=deps.clock())


async def lease_rows(deps: Deps) -> dict[str, dict[str, Any]]:
    return {row["carrier"]: dict(row) for row in await repository.leases(deps.db)}


async def _released(deps: Deps, carrier: str) -> bool:
    return carrier not in await lease_rows(deps)


async def eventually(check: Callable[[], Awaitable[bool] | bool], timeout: float = 8.0, what: str = "") -> None:
    deadline = time.monotonic() + timeout
    while not await _value(check()):
        if time.monotonic() > deadline:
            raise AssertionError(f"not within {timeout} s: {what}")
        await asyncio.sleep(0.05)


async def registry(stack: AsyncExitStack, deps: Deps, holder: str, lease_seconds: float = 15.0) -> CarrierRegistry:
    made = CarrierRegistry(
        deps.db, deps.clock, SimulatorCarrier(delay=0.0), build_carrier, holder=holder, lease_seconds=lease_seconds
    )
    await made.start(RecordingEvents())
    stack.push_async_callback(made.close)
    return made


def message(n: int) -> OutboundMessage:
    return OutboundMessage(f"mdr2-{n}", "12065550100", f"1312555{n:04d}", f"registry {n}")


async def test_exactly_one_worker_binds_a_link(smsc_env: PeerEnv, deps: Deps) -> None:
    async with smsc(smsc_env) as peer, AsyncExitStack() as stack:
        await add_carrier(deps, "up", link_config(peer))
        workers = await asyncio.gather(*(registry(stack, deps, f"w{n}") for n in range(3)))
        holders = [w for w in workers if w.local("up") is not None]
        assert len(holders) == 1
        others = [w for w in workers if w is not holders[0]]
        assert all(w.held_elsewhere("up") for w in others) and not holders[0].held_elsewhere("up")
        for worker in workers:
            await worker.refresh()
        stats = await peer.stats()
        assert (stats["binds"], stats["bound_sessions"]) == (1, 1)
        lease = (await lease_rows(deps))["up"]
        assert (lease["holder"], lease["state"]) == (holders[0].holder, "bound")
        result = await holders[0].local("up").submit(message(1))  # type: ignore[union-attr]
        assert len(result.carrier_message_ids) == 1
        await holders[0].refresh()
        assert json.loads((await lease_rows(deps))["up"]["stats"])["sent"] == 1


async def test_another_worker_takes_the_link_over_when_the_lease_lapses(smsc_env: PeerEnv, deps: Deps) -> None:
    async with smsc(smsc_env) as peer, AsyncExitStack() as stack:
        await add_carrier(deps, "up", link_config(peer))
        first = await registry(stack, deps, "first", lease_seconds=0.5)
        second = await registry(stack, deps, "second", lease_seconds=0.5)
        assert first.local("up") is not None and second.local("up") is None
        # `first` stops renewing (a worker that hangs or is cut off); once its lease lapses `second` binds
        started = time.monotonic()

        async def second_holds() -> bool:
            await second.refresh()
            return second.local("up") is not None

        await eventually(second_holds, what="takeover")
        assert time.monotonic() - started >= 0.3
        assert (await lease_rows(deps))["up"]["holder"] == "second"
        assert (await peer.stats())["bound_sessions"] == 2  # `first` has not noticed yet
        await first.refresh()  # it notices and lets go of its session
        assert first.local("up") is None and first.held_elsewhere("up")
        stats = await peer.stats()
        assert (stats["bound_sessions"], stats["unbinds"]) == (1, 1)
        assert (await lease_rows(deps))["up"]["holder"] == "second"


async def test_stored_changes_are_picked_up_while_running(smsc_env: PeerEnv, deps: Deps) -> None:
    async with smsc(smsc_env) as peer, AsyncExitStack() as stack:
        worker = await registry(stack, deps, "w")
        stop = asyncio.Event()
        running = asyncio.create_task(worker.run(stop, interval=0.05))
        try:
            assert worker.table == RoutingTable(default="simulator")
            await add_carrier(deps, "up", link_config(peer))
            async with deps.db.transaction() as connection:
                await repository.set_prefix(connection, "", "up")
                await repository.set_prefix(connection, "1312", "simulator")
            await eventually(lambda: worker.local("up") is not None, what="started")
            assert worker.table.carrier_for("13125550100") == "simulator"
            assert worker.table.carrier_for("12065550100") == "up"
            old = worker.local("up")
            async with deps.db.transaction() as connection:
                await repository.replace(connection, name="up", kind="smpp", config=link_config(peer, window=3), now=1)
            await eventually(lambda: worker.local("up") not in (None, old), what="restarted")
            assert worker.local("up").config.window == 3  # type: ignore[union-attr]
            assert (await peer.stats())["binds"] == 2
            async with deps.db.transaction() as connection:
                await repository.delete(connection, "up")
            await eventually(lambda: worker.local("up") is None, what="stopped")
            await eventually(lambda: _released(deps, "up"), what="its lease released after the unbind")
            assert worker.table.default == "up"  # the route stays, its messages wait for a carrier `up`
            assert not worker.held_elsewhere("up")
            stats = await peer.stats()
            assert (stats["bound_sessions"], stats["unbinds"]) == (0, 2)
        finally:
            stop.set()
            await running


async def _value(outcome: Awaitable[bool] | bool) -> bool:
    return await outcome if isinstance(outcome, Awaitable) else outcome


async def test_a_link_that_cannot_start_is_reported_and_spares_the_others(smsc_env: PeerEnv, deps: Deps) -> None:
    async with smsc(smsc_env) as peer, AsyncExitStack() as stack:
        await add_carrier(deps, "broken", json.dumps({"host": "127.0.0.1"}))
        await add_carrier(deps, "up", link_config(peer))
        worker = await registry(stack, deps, "w")
        assert worker.local("up") is not None and worker.local("broken") is None
        leases = await lease_rows(deps)
        assert (leases["broken"]["state"], leases["up"]["state"]) == ("error", "bound")
        assert "cannot start the link" in json.loads(leases["broken"]["stats"])["last_error"]


async def test_close_unbinds_and_releases_the_lease(smsc_env: PeerEnv, deps: Deps) -> None:
    async with smsc(smsc_env) as peer:
        await add_carrier(deps, "up", link_config(peer, password="wrong"))
        async with AsyncExitStack() as stack:
            worker = await registry(stack, deps, "w")
            lease = (await lease_rows(deps))["up"]
            assert lease["state"] == "unbound"
            assert "ESME_RINVPASWD" in json.loads(lease["stats"])["last_error"]
            async with deps.db.transaction() as connection:
                await repository.replace(connection, name="up", kind="smpp", config=link_config(peer), now=1)
            await worker.refresh()
            assert (await lease_rows(deps))["up"]["state"] == "bound"
        lease = (await lease_rows(deps))["up"]
        assert (lease["state"], lease["expires_at_us"]) == ("released", 0)
        stats = await peer.stats()
        assert (stats["bound_sessions"], stats["unbinds"]) == (0, 1)
        async with AsyncExitStack() as stack:  # the next worker need not wait for a lapse
            successor = await registry(stack, deps, "next")
            assert successor.local("up") is not None
            assert (await lease_rows(deps))["up"]["holder"] == "next"


async def test_an_smsc_that_never_answers_the_bind_does_not_hold_up_the_refresh(deps: Deps) -> None:
    async def silent(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.read()  # accepts, reads, never answers
        writer.close()

    server = await asyncio.start_server(silent, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        config = {"host": "127.0.0.1", "port": port, "system_id": SYSTEM_ID, "password": PASSWORD}
        await add_carrier(deps, "mute", json.dumps({**config, "response_timeout": 1.0}))
        async with AsyncExitStack() as stack:
            started = time.monotonic()
            worker = CarrierRegistry(
                deps.db, deps.clock, SimulatorCarrier(delay=0.0), build_carrier, holder="w", start_wait=0.2
            )
            await worker.start(RecordingEvents())
            stack.push_async_callback(worker.close)
            assert time.monotonic() - started < 0.8
            assert worker.local("mute") is None and worker.held_elsewhere("mute")  # its jobs wait briefly
            assert (await lease_rows(deps))["mute"]["state"] == "connecting"

            async def reported_unbound() -> bool:
                await worker.refresh()
                return bool((await lease_rows(deps))["mute"]["state"] == "unbound")

            await eventually(reported_unbound, what="the bind timed out")
            assert (
                "no bind_transceiver_resp within 1s"
                in json.loads((await lease_rows(deps))["mute"]["stats"])["last_error"]
            )
    finally:
        server.close()
        await server.wait_closed()
