"""The carrier links of this process and the routing table, kept in step with the database.

Every `refresh` re-reads the carriers and prefix rules, so a running server picks up changes
without a restart. A link that keeps a session (SMPP) is run by exactly one worker at a time:
the holder of its lease row. A worker that dies stops renewing, and another takes over when
the lease lapses.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import Callable
from typing import Any

import structlog

from telroute.carriers import repository
from telroute.carriers.base import Carrier, CarrierEvents
from telroute.carriers.routing import RoutingTable
from telroute.carriers.simulator import SIMULATOR
from telroute.kit.clock import Clock
from telroute.kit.db import Database

log = structlog.get_logger("telroute.carriers")
CarrierFactory = Callable[[str, str, dict[str, Any]], Carrier]


class CarrierRegistry:
    def __init__(
        self,
        database: Database,
        clock: Clock,
        simulator: Carrier,
        factory: CarrierFactory,
        *,
        holder: str,
        lease_seconds: float = 15.0,
    ) -> None:
        self._database = database
        self._clock = clock
        self._factory = factory
        self._holder = holder
        self._lease_us = int(lease_seconds * 1_000_000)
        self._local: dict[str, Carrier] = {SIMULATOR: simulator}
        self._configs: dict[str, str] = {}
        self._events: CarrierEvents | None = None
        self.table = RoutingTable(default=SIMULATOR)
        self.known: set[str] = {SIMULATOR}

    def local(self, name: str) -> Carrier | None:
        return self._local.get(name)

    async def start(self, events: CarrierEvents) -> None:
        self._events = events
        await self._local[SIMULATOR].start(events)
        await self.refresh()

    async def refresh(self) -> None:
        rows = await repository.all_carriers(self._database)
        rules = await repository.prefixes(self._database)
        default = next((row["name"] for row in rows if row["is_default"]), SIMULATOR)
        self.table = RoutingTable.build(default, rules)
        self.known = {SIMULATOR, *(row["name"] for row in rows)}
        wanted = {row["name"]: row for row in rows}
        for name in [name for name in self._local if name != SIMULATOR and name not in wanted]:
            await self._stop(name)
        for name, row in wanted.items():
            await self._keep(name, row["kind"], row["config"])

    async def _keep(self, name: str, kind: str, config: str) -> None:
        if name in self._local and self._configs.get(name) != config:
            await self._stop(name)
        now = self._clock()
        async with self._database.transaction() as connection:
            held = await repository.take_lease(
                connection, name, self._holder, now=now, until=now + self._lease_us
            )
        if not held:
            if name in self._local:
                await self._stop(name, release=False)
            return
        if name not in self._local:
            await self._start(name, kind, config)
        await self._report(name)

    async def _start(self, name: str, kind: str, config: str) -> None:
        carrier = self._factory(name, kind, json.loads(config))
        assert self._events is not None
        await carrier.start(self._events)
        self._local[name] = carrier
        self._configs[name] = config
        log.info("carrier link started", carrier=name, holder=self._holder)

    async def _report(self, name: str) -> None:
        status = self._local[name].status()
        state = "bound" if status.get("bound") else "unbound"
        async with self._database.transaction() as connection:
            await repository.set_link_state(
                connection, name, self._holder, state, json.dumps(status, default=str)
            )

    async def _stop(self, name: str, *, release: bool = True) -> None:
        carrier = self._local.pop(name)
        self._configs.pop(name, None)
        with contextlib.suppress(Exception):
            await carrier.stop()
        if release:
            async with self._database.transaction() as connection:
                await repository.release_lease(connection, name, self._holder)
        log.info("carrier link stopped", carrier=name, holder=self._holder)

    async def run(self, stop: asyncio.Event, interval: float = 2.0) -> None:
        while not stop.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=interval)
            if stop.is_set():
                break
            try:
                await self.refresh()
            except Exception as exc:  # a database hiccup: try again next round
                log.warning("carrier refresh failed", error=str(exc))

    async def close(self) -> None:
        for name in list(self._local):
            if name == SIMULATOR:
                await self._local[name].stop()
            else:
                await self._stop(name)
