"""The carrier links of this process and the routing table, kept in step with the database.

Every `refresh` (every 2 s in a worker) re-reads the carriers and routing rules, so a running
server picks up `telroute carriers ...` and `telroute routes ...` without a restart: a new
carrier is started, a changed one restarted with its new settings, a removed one stopped.

A link that keeps a session (SMPP) is run by exactly one worker at a time: the holder of its
lease row, which renews the lease on every refresh and writes the link's state and counters
there (`telroute carriers status` reads them). A worker that dies stops renewing, and another
takes over once the lease lapses; a worker that stops gracefully unbinds and releases it at once.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import Callable
from typing import Any

import structlog

from telroute.carriers import repository
from telroute.carriers.routing import RoutingTable
from telroute.carriers.simulator import SIMULATOR
from telroute.kit.clock import Clock
from telroute.kit.db import Database, Row
from telroute.kit.stopping import stopped_within
from telroute.messages.carrier_port import Carrier, CarrierEvents

log = structlog.get_logger("telroute.carriers")
CarrierFactory = Callable[[str, str, dict[str, Any]], Carrier]

BOUND, UNBOUND, CONNECTING, ERROR = "bound", "unbound", "connecting", "error"


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
        start_wait: float = 5.0,
    ) -> None:
        self._database = database
        self._clock = clock
        self._factory = factory
        self._holder = holder
        self._lease_us = int(lease_seconds * 1_000_000)
        self._start_wait = min(start_wait, lease_seconds / 2)  # a slow SMSC must not hold up lease renewals
        self._local: dict[str, Carrier] = {SIMULATOR: simulator}
        self._starting: dict[str, asyncio.Task[None]] = {}
        self._configs: dict[str, str] = {}  # the settings each running or starting link was started with
        self._errors: dict[str, str] = {}  # links this worker holds but could not start
        self._elsewhere: set[str] = set()  # links another live worker holds
        self._events: CarrierEvents | None = None
        self.table = RoutingTable(default=SIMULATOR)
        self.known: set[str] = {SIMULATOR}

    @property
    def holder(self) -> str:
        return self._holder

    def carrier_for(self, to_number: str) -> str:
        """The carrier the routing table names for an off-net `to_number`."""
        return self.table.carrier_for(to_number)

    def local(self, name: str) -> Carrier | None:
        """The carrier if this worker runs it (SMPP: holds its lease, and started the link), else None."""
        return self._local.get(name)

    def held_elsewhere(self, name: str) -> bool:
        """True when another live worker holds the link, or this one is still starting it: a job for it
        will find a running link soon. False for a carrier that nobody runs (missing, or its holder died
        and the lease has not lapsed yet)."""
        return name in self._elsewhere or name in self._starting

    async def start(self, events: CarrierEvents) -> None:
        self._events = events
        await self._local[SIMULATOR].start(events)
        await self.refresh()

    async def refresh(self) -> None:
        """Re-read carriers and routes; renew leases; start, restart and stop links to match. Waits up to
        `start_wait` for links to start (an SMPP link: its first bind attempt); slower ones go on starting
        in the background, and the next refresh reports them."""
        rows = await repository.all_carriers(self._database)
        rules = await repository.prefixes(self._database)
        self.table = RoutingTable.build(rules, SIMULATOR)
        wanted = {row["name"]: row for row in rows if row["name"] != SIMULATOR}
        self.known = {SIMULATOR, *wanted}
        gone = ({*self._local, *self._starting, *self._errors} - {SIMULATOR}) - set(wanted)
        for name in sorted(gone):
            await self._stop(name, drop=True)
        self._elsewhere &= set(wanted)
        held = [name for name in wanted if await self._lease(name)]
        for name in held:
            await self._keep(wanted[name])
        if self._starting:
            await asyncio.wait(set(self._starting.values()), timeout=self._start_wait)
        for name in held:
            await self._report(name)

    async def _lease(self, name: str) -> bool:
        """Take or renew the lease of one link; stop it here when another worker holds it."""
        now = self._clock()
        async with self._database.transaction() as connection:
            held = await repository.take_lease(connection, name, self._holder, now=now, until=now + self._lease_us)
        if held:
            self._elsewhere.discard(name)
            return True
        if name in self._local or name in self._starting:
            log.warning("carrier lease taken over by another worker", carrier=name, holder=self._holder)
            await self._stop(name, release=False)
        self._errors.pop(name, None)
        self._elsewhere.add(name)
        return False

    async def _keep(self, row: Row) -> None:
        """Run the link of `row` here: start it unless it runs or is starting; restart it when its stored
        settings changed."""
        name, config = row["name"], row["config"]
        if name in self._configs and self._configs[name] != config:
            log.info("carrier settings changed: restarting the link", carrier=name)
            await self._stop(name, release=False)
        if name in self._local or name in self._starting:
            return
        self._configs[name] = config
        self._starting[name] = asyncio.create_task(self._start(name, row["kind"], config), name=f"start-{name}")

    async def _start(self, name: str, kind: str, config: str) -> None:
        carrier: Carrier | None = None
        try:
            carrier = self._factory(name, kind, json.loads(config))
            assert self._events is not None, "CarrierRegistry.start() was not called"
            await carrier.start(self._events)
        except asyncio.CancelledError:  # stopped while starting
            if carrier is not None:
                with contextlib.suppress(Exception):
                    await carrier.stop()
            raise
        except Exception as exc:  # a bad stored config must not stop the other links, nor the worker
            log.warning("carrier link could not start", carrier=name, error=str(exc))
            self._errors[name] = f"cannot start the link: {exc}"
            self._configs.pop(name, None)
            return
        finally:
            self._starting.pop(name, None)
        self._errors.pop(name, None)
        self._local[name] = carrier
        log.info("carrier link started", carrier=name, holder=self._holder)

    async def _report(self, name: str) -> None:
        carrier = self._local.get(name)
        if carrier is not None:
            status = carrier.status()
            state = BOUND if status.get("bound") else UNBOUND
        elif name in self._starting:
            state, status = CONNECTING, {"bound": False}
        else:
            state, status = ERROR, {"bound": False, "last_error": self._errors.get(name)}
        async with self._database.transaction() as connection:
            await repository.set_link_state(
                connection, name, self._holder, state, json.dumps(status, default=str), now=self._clock()
            )

    async def _stop(self, name: str, *, release: bool = True, drop: bool = False) -> None:
        """Stop the link here (running or starting); `release` its lease at once, or `drop` it (the
        carrier was removed)."""
        carrier = self._local.pop(name, None)  # first, so that no new submit reaches it
        starting = self._starting.pop(name, None)
        self._configs.pop(name, None)
        self._errors.pop(name, None)
        if starting is not None:
            starting.cancel()
            await asyncio.gather(starting, return_exceptions=True)
        if carrier is not None:
            try:
                await carrier.stop()
            except Exception as exc:
                log.warning("carrier link did not stop cleanly", carrier=name, error=str(exc))
        if release or drop:
            async with self._database.transaction() as connection:
                if drop:
                    await repository.drop_lease(connection, name, self._holder)
                else:
                    await repository.release_lease(connection, name, self._holder, now=self._clock())
        log.info("carrier link stopped", carrier=name, holder=self._holder)

    async def run(self, stop: asyncio.Event, interval: float = 2.0) -> None:
        while not await stopped_within(stop, interval):
            try:
                await self.refresh()
            except Exception as exc:  # a database hiccup: try again next round
                log.warning("carrier refresh failed", error=str(exc))

    async def close(self) -> None:
        """Graceful stop: every link drains, unbinds, and releases its lease."""
        for name in sorted({*self._local, *self._starting} - {SIMULATOR}):
            with contextlib.suppress(Exception):  # the database may be gone already; the lease lapses
                await self._stop(name)
        await self._local[SIMULATOR].stop()
