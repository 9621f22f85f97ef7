"""All SQL of carrier links: their configuration, routing rules and the per-link lease.

A routing rule maps a number prefix to a carrier by name; the rule with the empty prefix is the
default route. Rules outlive the carrier they name: while it is missing, messages on its routes
wait (they are never handed to another carrier behind the operator's back).
"""

from __future__ import annotations

from telroute.kit.db import Connection, Row, sql

DEFAULT_PREFIX = ""

_LIST = sql("SELECT name, kind, config, created_at_us, updated_at_us FROM carriers ORDER BY name")
_BY_NAME = sql("SELECT name, kind, config FROM carriers WHERE name = :name")
_INSERT = sql(
    "INSERT INTO carriers (name, kind, config, created_at_us, updated_at_us) "
    "VALUES (:name, :kind, :config, :now, :now) ON CONFLICT (name) DO NOTHING"
)
_REPLACE = sql("UPDATE carriers SET kind = :kind, config = :config, updated_at_us = :now WHERE name = :name")
_DELETE = sql("DELETE FROM carriers WHERE name = :name")
_PREFIXES = sql("SELECT prefix, carrier FROM carrier_prefixes ORDER BY prefix")
_SET_PREFIX = sql(
    "INSERT INTO carrier_prefixes (prefix, carrier) VALUES (:prefix, :carrier) "
    "ON CONFLICT (prefix) DO UPDATE SET carrier = excluded.carrier"
)
_DELETE_PREFIX = sql("DELETE FROM carrier_prefixes WHERE prefix = :prefix")
_TAKE_LEASE = sql(
    """INSERT INTO carrier_leases (carrier, holder, expires_at_us, updated_at_us)
         VALUES (:carrier, :holder, :until, :now)
       ON CONFLICT (carrier) DO UPDATE SET holder = excluded.holder, expires_at_us = excluded.expires_at_us
         WHERE carrier_leases.holder = :holder OR carrier_leases.expires_at_us < :now
       RETURNING holder"""
)
_RELEASE_LEASE = sql(
    "UPDATE carrier_leases SET expires_at_us = 0, state = 'released', updated_at_us = :now "
    "WHERE carrier = :carrier AND holder = :holder"
)
_DROP_LEASE = sql("DELETE FROM carrier_leases WHERE carrier = :carrier AND holder = :holder")
_SET_LINK_STATE = sql(
    "UPDATE carrier_leases SET state = :state, stats = :stats, updated_at_us = :now "
    "WHERE carrier = :carrier AND holder = :holder"
)
_LEASES = sql("SELECT carrier, holder, expires_at_us, state, stats, updated_at_us FROM carrier_leases ORDER BY carrier")


async def all_carriers(connection: Connection) -> list[Row]:
    return await connection.fetch(_LIST)


async def by_name(connection: Connection, name: str) -> Row | None:
    return await connection.fetchrow(_BY_NAME, {"name": name})


async def insert(connection: Connection, *, name: str, kind: str, config: str, now: int) -> bool:
    """Add a carrier; False when one of that name exists."""
    params = {"name": name, "kind": kind, "config": config, "now": now}
    return await connection.execute(_INSERT, params) == 1


async def replace(connection: Connection, *, name: str, kind: str, config: str, now: int) -> bool:
    params = {"name": name, "kind": kind, "config": config, "now": now}
    return await connection.execute(_REPLACE, params) == 1


async def delete(connection: Connection, name: str) -> bool:
    """Remove a carrier (its routing rules stay; see the module docstring)."""
    return await connection.execute(_DELETE, {"name": name}) == 1


async def prefixes(connection: Connection) -> dict[str, str]:
    """Every routing rule, prefix -> carrier name ('' is the default route)."""
    return {row["prefix"]: row["carrier"] for row in await connection.fetch(_PREFIXES)}


async def set_prefix(connection: Connection, prefix: str, carrier: str) -> None:
    await connection.execute(_SET_PREFIX, {"prefix": prefix, "carrier": carrier})


async def delete_prefix(connection: Connection, prefix: str) -> bool:
    return await connection.execute(_DELETE_PREFIX, {"prefix": prefix}) == 1


async def take_lease(connection: Connection, carrier: str, holder: str, *, now: int, until: int) -> bool:
    """Take or renew the lease on a link; only one holder at a time, a lapsed lease can be taken over."""
    row = await connection.fetchrow(_TAKE_LEASE, {"carrier": carrier, "holder": holder, "now": now, "until": until})
    return row is not None


async def release_lease(connection: Connection, carrier: str, holder: str, *, now: int) -> None:
    """Give the link up at once (a graceful stop): another worker may take it on its next refresh."""
    await connection.execute(_RELEASE_LEASE, {"carrier": carrier, "holder": holder, "now": now})


async def drop_lease(connection: Connection, carrier: str, holder: str) -> None:
    """Forget the lease of a carrier that was removed."""
    await connection.execute(_DROP_LEASE, {"carrier": carrier, "holder": holder})


async def set_link_state(
    connection: Connection, carrier: str, holder: str, state: str, stats: str, *, now: int
) -> None:
    await connection.execute(
        _SET_LINK_STATE, {"carrier": carrier, "holder": holder, "state": state, "stats": stats, "now": now}
    )


async def leases(connection: Connection) -> list[Row]:
    return await connection.fetch(_LEASES)
