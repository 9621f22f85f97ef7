"""SQL of E911 addresses and of the numbers they are attached to (`numbers.e911_address_id`)."""

from __future__ import annotations

from dataclasses import asdict

from telroute.e911.model import Address
from telroute.kit.db import Connection, Row, sql

_COLUMNS = (
    "id, label, first_name, last_name, street_name, street_number, address_type, address_type_number, "
    "city, state, country, zip"
)
_LIST = sql(
    f"SELECT {_COLUMNS} FROM e911_addresses WHERE account_id = :account "
    "AND (:state IS NULL OR state = :state) ORDER BY id LIMIT :limit OFFSET :offset",
    postgres=f"SELECT {_COLUMNS} FROM e911_addresses WHERE account_id = :account "
    "AND (CAST(:state AS TEXT) IS NULL OR state = :state) ORDER BY id LIMIT :limit OFFSET :offset",
)
_GET = sql(f"SELECT {_COLUMNS} FROM e911_addresses WHERE id = :id AND account_id = :account")
_INSERT = sql(
    "INSERT INTO e911_addresses (account_id, label, first_name, last_name, street_name, street_number, "
    "address_type, address_type_number, city, state, country, zip, created_at_us) VALUES (:account, :label, "
    ":first_name, :last_name, :street_name, :street_number, :address_type, :address_type_number, :city, :state, "
    ":country, :zip, :now) RETURNING id"
)
_UPDATE = sql(
    "UPDATE e911_addresses SET label = :label, first_name = :first_name, last_name = :last_name, "
    "street_name = :street_name, street_number = :street_number, address_type = :address_type, "
    "address_type_number = :address_type_number, city = :city, state = :state, country = :country, zip = :zip "
    "WHERE id = :id AND account_id = :account"
)
_DELETE = sql("DELETE FROM e911_addresses WHERE id = :id AND account_id = :account")
_NUMBERS = sql(
    "SELECT value, alias FROM numbers WHERE e911_address_id = :id AND account_id = :account "
    "ORDER BY value LIMIT :limit OFFSET :offset"
)
_IN_USE = sql("SELECT COUNT(*) FROM numbers WHERE e911_address_id = :id AND account_id = :account")
_ATTACH = sql("UPDATE numbers SET e911_address_id = :id WHERE value = :value AND account_id = :account")


async def page(connection: Connection, account_id: int, state: str | None, *, limit: int, offset: int) -> list[Row]:
    params = {"account": account_id, "state": state, "limit": limit, "offset": offset}
    return await connection.fetch(_LIST, params)


async def get(connection: Connection, address_id: int, account_id: int) -> Row | None:
    return await connection.fetchrow(_GET, {"id": address_id, "account": account_id})


async def insert(connection: Connection, account_id: int, address: Address, now: int) -> int:
    address_id: int = await connection.fetchval(_INSERT, {"account": account_id, "now": now, **asdict(address)})
    return address_id


async def update(connection: Connection, address_id: int, account_id: int, address: Address) -> None:
    await connection.execute(_UPDATE, {"id": address_id, "account": account_id, **asdict(address)})


async def delete(connection: Connection, address_id: int, account_id: int) -> None:
    await connection.execute(_DELETE, {"id": address_id, "account": account_id})


async def numbers(connection: Connection, address_id: int, account_id: int, *, limit: int, offset: int) -> list[Row]:
    params = {"id": address_id, "account": account_id, "limit": limit, "offset": offset}
    return await connection.fetch(_NUMBERS, params)


async def numbers_attached(connection: Connection, address_id: int, account_id: int) -> int:
    count: int = await connection.fetchval(_IN_USE, {"id": address_id, "account": account_id})
    return count


async def attach(connection: Connection, value: str, account_id: int, address_id: int | None) -> None:
    await connection.execute(_ATTACH, {"id": address_id, "value": value, "account": account_id})


_FORGET = sql("DELETE FROM e911_addresses WHERE account_id = :account")


async def forget(connection: Connection, account_id: int) -> None:
    """Every address of an account that is going away (its numbers released first)."""
    await connection.execute(_FORGET, {"account": account_id})
