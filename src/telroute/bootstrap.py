"""The composition root: database, clock, outbound HTTP, carriers and the worker.

Tests pass fakes in here (a clock), never through `mock.patch`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from telroute.config import Settings
from telroute.kit import db as dbkit
from telroute.kit.clock import Clock, system_clock
from telroute.kit.migrate import migrate
from telroute.kit.outbound import OutboundHttp


@dataclass(slots=True)
class Deps:
    settings: Settings
    db: dbkit.Database
    clock: Clock
    http: OutboundHttp
    wake_worker: Callable[[], None] = lambda: None
    extras: dict[str, object] = field(default_factory=dict)

    async def close(self) -> None:
        await self.http.close()
        await self.db.close()


def prepare_database(settings: Settings) -> None:
    """Create the data dir and bring the schema to head (synchronous: run before the event loop)."""
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    migrate(settings.resolved_database_url)


async def build(
    settings: Settings,
    *,
    clock: Clock = system_clock,
) -> Deps:
    database = await dbkit.connect(settings.resolved_database_url)
    client = OutboundHttp(
        allow_private=settings.private_targets_allowed,
        timeout=settings.webhook_timeout,
        per_receiver=settings.webhook_connections_per_receiver,
        slot_wait=settings.webhook_slot_wait,
    )
    return Deps(settings=settings, db=database, clock=clock, http=client)
