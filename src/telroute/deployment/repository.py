"""All SQL of the deployment's stored policy."""

from __future__ import annotations

from telroute.config import Profile
from telroute.deployment.model import Policy
from telroute.kit.db import Connection, sql

_READ = sql("SELECT profile, private_targets, allowed_networks FROM deployment WHERE id = 1")
_CREATE = sql(
    "INSERT INTO deployment (id, profile, private_targets, allowed_networks, created_at_us) "
    "VALUES (1, :profile, :private_targets, :networks, :now) ON CONFLICT (id) DO NOTHING"
)
_UPDATE = sql(
    "UPDATE deployment SET profile = :profile, private_targets = :private_targets, allowed_networks = :networks "
    "WHERE id = 1"
)
_LOG_CHANGE = sql("INSERT INTO deployment_changes (at_us, change) VALUES (:now, :change)")
_CHANGES = sql("SELECT at_us, change FROM deployment_changes ORDER BY id")


def _params(policy: Policy) -> dict[str, object]:
    return {
        "profile": policy.profile,
        "private_targets": policy.private_targets,
        "networks": " ".join(policy.allowed_networks),
    }


async def read(connection: Connection) -> Policy | None:
    row = await connection.fetchrow(_READ)
    if row is None:
        return None
    profile: Profile = "production" if row["profile"] == "production" else "sandbox"
    return Policy(profile, bool(row["private_targets"]), tuple(row["allowed_networks"].split()))


async def create(connection: Connection, policy: Policy, now: int) -> bool:
    """Store the policy unless one is stored already (a rival process may have been first)."""
    return await connection.execute(_CREATE, {**_params(policy), "now": now}) == 1


async def update(connection: Connection, policy: Policy) -> None:
    await connection.execute(_UPDATE, _params(policy))


async def log_change(connection: Connection, change: str, now: int) -> None:
    await connection.execute(_LOG_CHANGE, {"now": now, "change": change})


async def changes(connection: Connection) -> list[tuple[int, str]]:
    return [(row["at_us"], row["change"]) for row in await connection.fetch(_CHANGES)]
