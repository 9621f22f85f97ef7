"""Deployment use cases: read the stored policy at a process's start, create it once, change it
by an explicit admin command (each change logged). Never commits: the caller owns the transaction."""

from __future__ import annotations

from collections.abc import Callable

from telroute.config import Profile
from telroute.deployment import repository
from telroute.deployment.model import NotInitialized, Policy, default_policy, difference, upgraded
from telroute.kit.db import Connection


async def stored_policy(connection: Connection, *, create_as: Profile | None, now: int) -> Policy:
    """The stored policy; when there is none, store `create_as`'s default first (None: refuse)."""
    stored = await repository.read(connection)
    if stored is not None:
        return stored
    if create_as is None:
        raise NotInitialized(
            "this database has no deployment profile yet: run `telroute init --profile production` "
            "(or sandbox), or start `telroute serve` first"
        )
    policy = default_policy(create_as)
    if await repository.create(connection, policy, now):
        await repository.log_change(connection, f"created: {policy.describe()}", now)
    found = await repository.read(connection)  # a rival process may have stored its own first
    assert found is not None
    return found


async def peek(connection: Connection) -> Policy | None:
    return await repository.read(connection)


async def initialize(connection: Connection, profile: Profile, *, now: int) -> tuple[Policy, str | None]:
    """`telroute init`: create the deployment, or move it from sandbox to production. The change, if any."""
    await stored_policy(connection, create_as=profile, now=now)
    return await change(connection, lambda current: upgraded(current, profile), now=now)


async def change(connection: Connection, rule: Callable[[Policy], Policy], *, now: int) -> tuple[Policy, str | None]:
    """Apply one admin change to the stored policy (raising what the rule raises); the change logged."""
    stored = await stored_policy(connection, create_as=None, now=now)
    policy = rule(stored)
    if policy == stored:
        return stored, None
    await repository.update(connection, policy)
    description = difference(stored, policy)
    await repository.log_change(connection, description, now)
    return policy, description


async def history(connection: Connection) -> list[tuple[int, str]]:
    return await repository.changes(connection)
