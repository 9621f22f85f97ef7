"""SQL of CNAM presets and of the numbers showing them (`numbers.cnam_preset_id`)."""

from __future__ import annotations

from telroute.kit.db import Connection, Row, sql

_COLUMNS = "id, value, status, rejection_reason, created_at_us, decided_at_us"
_APPROVED = "(status = 'approved' OR (status = 'pending' AND created_at_us <= :cutoff))"
_PAGE = "ORDER BY id LIMIT :limit OFFSET :offset"
_LIST = {
    None: sql(f"SELECT {_COLUMNS} FROM cnam_presets WHERE account_id = :account {_PAGE}"),
    True: sql(f"SELECT {_COLUMNS} FROM cnam_presets WHERE account_id = :account AND {_APPROVED} {_PAGE}"),
    False: sql(f"SELECT {_COLUMNS} FROM cnam_presets WHERE account_id = :account AND NOT {_APPROVED} {_PAGE}"),
}
_GET = sql(f"SELECT {_COLUMNS} FROM cnam_presets WHERE id = :id AND account_id = :account")
_GET_ANY = sql(f"SELECT {_COLUMNS} FROM cnam_presets WHERE id = :id")
_EXISTS = sql("SELECT id FROM cnam_presets WHERE account_id = :account AND value = :value")
_INSERT = sql(
    "INSERT INTO cnam_presets (account_id, value, status, created_at_us) "
    "VALUES (:account, :value, 'pending', :now) RETURNING id"
)
_DELETE = sql("DELETE FROM cnam_presets WHERE id = :id AND account_id = :account")
_DECIDE = sql(
    "UPDATE cnam_presets SET status = :status, rejection_reason = :reason, decided_at_us = :now WHERE id = :id"
)
_DETACH_ALL = sql("UPDATE numbers SET cnam_preset_id = NULL WHERE cnam_preset_id = :id")
_ATTACH = sql("UPDATE numbers SET cnam_preset_id = :id WHERE value = :value AND account_id = :account")


async def page(
    connection: Connection, account_id: int, approved: bool | None, *, cutoff: int, limit: int, offset: int
) -> list[Row]:
    params = {"account": account_id, "limit": limit, "offset": offset}
    if approved is not None:
        params["cutoff"] = cutoff
    return await connection.fetch(_LIST[approved], params)


async def get(connection: Connection, preset_id: int, account_id: int) -> Row | None:
    return await connection.fetchrow(_GET, {"id": preset_id, "account": account_id})


async def get_any(connection: Connection, preset_id: int) -> Row | None:
    return await connection.fetchrow(_GET_ANY, {"id": preset_id})


async def exists(connection: Connection, account_id: int, value: str) -> bool:
    return await connection.fetchrow(_EXISTS, {"account": account_id, "value": value}) is not None


async def insert(connection: Connection, account_id: int, value: str, now: int) -> int:
    preset_id: int = await connection.fetchval(_INSERT, {"account": account_id, "value": value, "now": now})
    return preset_id


async def delete(connection: Connection, preset_id: int, account_id: int) -> None:
    await connection.execute(_DETACH_ALL, {"id": preset_id})
    await connection.execute(_DELETE, {"id": preset_id, "account": account_id})


async def decide(connection: Connection, preset_id: int, status: str, reason: str | None, now: int) -> None:
    await connection.execute(_DECIDE, {"id": preset_id, "status": status, "reason": reason, "now": now})
    if status != "approved":
        await connection.execute(_DETACH_ALL, {"id": preset_id})


async def attach(connection: Connection, value: str, account_id: int, preset_id: int | None) -> None:
    await connection.execute(_ATTACH, {"id": preset_id, "value": value, "account": account_id})


_FORGET = sql("DELETE FROM cnam_presets WHERE account_id = :account")


async def forget(connection: Connection, account_id: int) -> None:
    """Every preset of an account that is going away (its numbers released first)."""
    await connection.execute(_FORGET, {"account": account_id})
