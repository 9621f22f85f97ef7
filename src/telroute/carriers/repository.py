"""All SQL of carrier links: their configuration, prefix rules and the per-link lease."""

from __future__ import annotations

from telroute.kit.db import Connection, Row, sql

_LIST = sql("SELECT name, kind, config, is_default, updated_at_us FROM carriers ORDER BY name")
_BY_NAME = sql("SELECT name, kind, config, is_default FROM carriers WHERE name = :name")
_INSERT = sql(
    "INSERT INTO carriers (name, kind, config, is_default, created_at_us, updated_at_us) "
    "VALUES (:name, :kind, :config, :is_default, :now, :now)"
)
_CLEAR_DEFAULT = sql("UPDATE carriers SET is_default = :no, updated_at_us = :now WHERE is_default = :yes")
_DELETE = sql("DELETE FROM carriers WHERE name = :name")
_DELETE_PREFIXES_OF = sql("DELETE FROM carrier_prefixes WHERE carrier = :name")
_PREFIXES = sql("SELECT prefix, carrier FROM carrier_prefixes ORDER BY prefix")
_SET_PREFIX = sql(
    "INSERT INTO carrier_prefixes (prefix, carrier) VALUES (:prefix, :carrier) "
    "ON CONFLICT (prefix) DO UPDATE SET carrier = excluded.carrier"
)
_DELETE_PREFIX = sql("DELETE FROM carrier_prefixes WHERE prefix = :prefix")
_TAKE_LEASE = sql(
    """INSERT INTO carrier_leases (carrier, holder, expires_at_us) VALUES (:carrier, :holder, :until)
       ON CONFLICT (carrier) DO UPDATE SET holder = excluded.holder, expires_at_us = excluded.expires_at_us
         WHERE carrier_leases.holder = :holder OR carrier_leases.expires_at_us < :now
       RETURNING holder"""
)
_RELEASE_LEASE = sql(
    "UPDATE carrier_leases SET expires_at_us = 0, state = 'unbound' WHERE carrier = :carrier AND holder = :holder"
)
_SET_LINK_STATE = sql(
    "UPDATE carrier_leases SET state = :state, stats = :stats WHERE carrier = :carrier AND holder = :holder"
)
_LEASES = sql("SELECT carrier, holder, expires_at_us, state, stats FROM carrier_leases ORDER BY carrier")


async def all_carriers(connection: Connection) -> list[Row]:
    return await connection.fetch(_LIST)


async def by_name(connection: Connection, name: str) -> Row | None:
    return await connection.fetchrow(_BY_NAME, {"name": name})


async def insert(
    connection: Connection, *, name: str, kind: str, config: str, is_default: bool, now: int
) -> None:
    if is_default:
        await connection.execute(_CLEAR_DEFAULT, {"no": False, "yes": True, "now": now})
    params = {"name": name, "kind": kind, "config": config, "is_default": is_default, "now": now}
    await connection.execute(_INSERT, params)


async def delete(connection: Connection, name: str) -> bool:
    await connection.execute(_DELETE_PREFIXES_OF, {"name": name})
    return await connection.execute(_DELETE, {"name": name}) == 1


async def prefixes(connection: Connection) -> dict[str, str]:
    return {row["prefix"]: row["carrier"] for row in await connection.fetch(_PREFIXES)}


async def set_prefix(connection: Connection, prefix: str, carrier: str) -> None:
    await connection.execute(_SET_PREFIX, {"prefix": prefix, "carrier": carrier})


async def delete_prefix(connection: Connection, prefix: str) -> bool:
    return await connection.execute(_DELETE_PREFIX, {"prefix": prefix}) == 1


async def take_lease(connection: Connection, carrier: str, holder: str, *, now: int, until: int) -> bool:
    """Take or renew the lease on a link; only one holder at a time, a lapsed lease can be taken over."""
    row = await connection.fetchrow(
        _TAKE_LEASE, {"carrier": carrier, "holder": holder, "now": now, "until": until}
    )
    return row is not None


async def release_lease(connection: Connection, carrier: str, holder: str) -> None:
    await connection.execute(_RELEASE_LEASE, {"carrier": carrier, "holder": holder})


async def set_link_state(connection: Connection, carrier: str, holder: str, state: str, stats: str) -> None:
    await connection.execute(
        _SET_LINK_STATE, {"carrier": carrier, "holder": holder, "state": state, "stats": stats}
    )


async def leases(connection: Connection) -> list[Row]:
    return await connection.fetch(_LEASES)
