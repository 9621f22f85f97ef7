"""The composition root: database, the deployment's policy, clock, outbound HTTP, carriers and the worker.

Tests pass fakes in here (a clock), never through `mock.patch`.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import structlog

from telroute.config import Profile, Settings
from telroute.deployment import service as deployment_service
from telroute.deployment.model import Policy, default_policy, process_policy
from telroute.kit import db as dbkit
from telroute.kit.account_gate import AccountGate
from telroute.kit.clock import Clock, VirtualClock, system_clock
from telroute.kit.credential_cache import CredentialCache
from telroute.kit.exposition_merge import Relay
from telroute.kit.failed_logins import FailedLogins
from telroute.kit.migrate import migrate
from telroute.kit.outbound import OutboundHttp
from telroute.kit.wakeup import Wakeup
from telroute.numbers.answers import Answers, answers_cache

SettingsHook = Callable[[Settings], Settings]


@dataclass(frozen=True, slots=True)
class Deps:
    """What a process shares, complete once `build` returns: nothing in it is replaced afterwards."""

    settings: Settings
    db: dbkit.Database
    clock: Clock
    http: OutboundHttp
    wakeup: Wakeup = field(default_factory=Wakeup)  # notified after a job is written; the worker waits on it
    failed_logins: FailedLogins = field(default_factory=FailedLogins)
    account_gate: AccountGate = field(default_factory=AccountGate)  # the sandbox's API fault rules install one
    credentials: CredentialCache = field(default_factory=CredentialCache)  # verified Basic credentials
    inventory_answers: Answers = field(default_factory=answers_cache)  # the inventory's lists, rendered
    metrics_relay: Relay = field(default_factory=Relay)  # a child worker's metrics, served in this process's
    # Set when the process begins to stop (SIGTERM): long-lived responses (the console's streams) end then.
    stopping: asyncio.Event = field(default_factory=asyncio.Event)

    async def close(self) -> None:
        await self.credentials.close()
        await self.inventory_answers.close()
        await self.http.close()
        await self.db.close()


def prepare_database(settings: Settings) -> None:
    """Create the data dir and bring the schema to head (synchronous: run before the event loop)."""
    settings.data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    migrate(settings.resolved_database_url)
    keep_private(settings.data_dir)


def keep_private(data_dir: Path) -> None:
    """Message bodies, keys and signing secrets live in the data dir: only its owner may read it
    (also tightening a data dir made before this rule). New files are private by the process umask."""
    data_dir.chmod(0o700)
    for path in data_dir.iterdir():
        if path.is_file() and not path.is_symlink():
            path.chmod(path.stat().st_mode & 0o700)


async def build(
    settings: Settings,
    *,
    clock: Clock = system_clock,
    creates: Profile | None = None,
    requires_profile: bool = False,
    complete: SettingsHook | None = None,
) -> Deps:
    """Everything a process needs, under the deployment's stored policy (see `deployment_policy`).
    `complete` finishes the settings once the profile in force is known (the sandbox's admin token)."""
    database = await dbkit.connect(settings.resolved_database_url)
    try:
        settings = await deployment_policy(
            database, settings, clock, creates=creates, requires_profile=requires_profile
        )
        if complete is not None:
            settings = complete(settings)
    except BaseException:
        await database.close()
        raise
    client = OutboundHttp(
        policy=settings.address_policy,
        timeout=settings.webhook_timeout,
        per_receiver=settings.webhook_connections_per_receiver,
        slot_wait=settings.webhook_slot_wait,
    )
    if settings.profile == "sandbox":
        clock = VirtualClock(clock)  # follows the deployment's stored offset (sandbox_tools/virtual_clock.py)
    return Deps(settings=settings, db=database, clock=clock, http=client)


async def deployment_policy(
    database: dbkit.Database, settings: Settings, clock: Clock, *, creates: Profile | None, requires_profile: bool
) -> Settings:
    """`settings` with the profile and address policy in force: the stored ones, made stricter by
    what this process asked for. With `creates`, a deployment without a stored policy gets that
    profile's; with `requires_profile`, it is refused (raises NotInitialized); otherwise the process
    runs on the defaults without storing them (admin commands on a fresh data dir). A request looser
    than the stored policy raises LooserThanDeployment."""
    async with database.transaction() as connection:
        stored: Policy | None
        if creates is not None or requires_profile:
            stored = await deployment_service.stored_policy(connection, create_as=creates, now=clock())
        else:
            stored = await deployment_service.peek(connection)
    if stored is None:
        stored = default_policy(settings.requested_profile or "sandbox")
    effective = process_policy(stored, settings.requested_profile, settings.allow_private_targets)
    return settings.with_overrides(
        profile=effective.profile,
        allow_private_targets=effective.private_targets,
        allowed_networks=effective.allowed_networks,
    )


def log_policy(settings: Settings, process: str) -> None:
    """A process's first log line: the profile and outbound address policy it runs under."""
    structlog.get_logger("telroute.deployment").info(
        "deployment policy", process=process, profile=settings.profile, outbound=settings.address_policy.describe()
    )
