"""The background half of a process: the job worker and the carrier links it drives.

Part of the composition root: here the carrier registry is built and handed to the message jobs
as the port's `Carriers`, the one place where `messages` and `carriers` meet."""

from __future__ import annotations

import asyncio
import contextlib

from telroute.bootstrap import Deps
from telroute.carriers.factory import build_carrier
from telroute.carriers.registry import CarrierRegistry
from telroute.carriers.simulator import SimulatorCarrier
from telroute.console import changes as console_changes
from telroute.kit import queue_upkeep
from telroute.kit.worker import Handler, Worker, worker_name
from telroute.messages import retention
from telroute.messages import tasks as message_tasks
from telroute.sandbox_tools import virtual_clock
from telroute.sandbox_tools.delivery_faults import SandboxFaults
from telroute.webhooks import tasks as webhook_tasks


def job_handlers(deps: Deps, registry: CarrierRegistry) -> dict[str, Handler]:
    faults = SandboxFaults(deps) if deps.settings.profile == "sandbox" else None
    return {**message_tasks.handlers(deps, registry, faults), **webhook_tasks.handlers(deps)}


def carrier_registry(deps: Deps) -> CarrierRegistry:
    settings = deps.settings
    simulator = SimulatorCarrier(
        delay=settings.simulator_receipt_delay,
        failure_rate=settings.simulator_failure_rate,
        seed=settings.simulator_seed,
    )
    return CarrierRegistry(
        deps.db,
        deps.clock,
        simulator,
        build_carrier,
        holder=worker_name(),
        lease_seconds=settings.carrier_lease_seconds,
    )


class Runtime:
    def __init__(self, deps: Deps) -> None:
        self.deps = deps
        self.worker: Worker | None = None
        self.registry: CarrierRegistry | None = None
        self._stop = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []

    async def start(self, *, worker: bool) -> None:
        deps = self.deps
        self._tasks.append(asyncio.create_task(console_changes.publish(self.deps.db, self._stop)))
        if deps.settings.profile == "sandbox":
            await virtual_clock.refresh(deps)
            self._tasks.append(asyncio.create_task(virtual_clock.follow(deps, self._stop)))
        if not worker:
            return
        events = message_tasks.DurableCarrierEvents(deps)
        self.registry = carrier_registry(deps)
        await self.registry.start(events)
        self.worker = Worker(
            deps.db,
            deps.clock,
            job_handlers(deps, self.registry),
            lease_seconds=deps.settings.job_lease_seconds,
            concurrency=deps.settings.worker_batch,
            wakeup=deps.wakeup,
        )
        self._tasks += [
            asyncio.create_task(self.worker.run(self._stop)),
            asyncio.create_task(self.registry.run(self._stop)),
            asyncio.create_task(retention.run(deps, self._stop)),
            asyncio.create_task(queue_upkeep.run(deps.db, self._stop)),
        ]

    async def stop(self) -> None:
        self._stop.set()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        if self.registry is not None:
            await self.registry.close()
