"""All SQL of the accounts feature."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from telroute.accounts.model import Account
from telroute.kit.credential_cache import accounts_changed
from telroute.kit.db import Connection, Row, sql

_COLUMNS = "id, access_key, name, sms_per_second, mms_per_second, webhook_secret"
_BY_KEY = sql(f"SELECT {_COLUMNS}, secret_hash FROM accounts WHERE access_key = :key")
_BY_ID = sql(f"SELECT {_COLUMNS} FROM accounts WHERE id = :id")
_WEBHOOK_SECRETS = sql(
    "SELECT id, webhook_secret FROM accounts WHERE id IN (SELECT value FROM json_each(:ids))",
    postgres="SELECT id, webhook_secret FROM accounts WHERE id = ANY(:ids)",
)
_LIST = sql(f"SELECT {_COLUMNS}, created_at_us FROM accounts ORDER BY id")
_INSERT = sql(
    "INSERT INTO accounts (access_key, name, secret_hash, created_at_us) VALUES (:key, :name, :hash, :now) RETURNING id"
)
_KEY_TAKEN = sql("SELECT 1 FROM accounts WHERE access_key = :key")
_SET_SECRET = sql("UPDATE accounts SET secret_hash = :hash WHERE access_key = :key")
_SET_LIMITS = sql(
    "UPDATE accounts SET sms_per_second = COALESCE(:sms, sms_per_second), "
    "mms_per_second = COALESCE(:mms, mms_per_second) WHERE access_key = :key"
)
_SET_WEBHOOK_SECRET = sql("UPDATE accounts SET webhook_secret = :secret WHERE access_key = :key")
_CALLBACKS = sql(
    "SELECT sms_callback, mms_callback, sms_dlr_callback, mms_dlr_callback, sms_callback_version, "
    "mms_callback_version FROM accounts WHERE id = :id"
)
# Inbound callbacks remember the API version their URL was set through; DLRs follow their message's.
_SET_CALLBACK = {
    column: sql(f"UPDATE accounts SET {column} = :url{versioned} WHERE id = :id")
    for column, versioned in (
        ("sms_callback", ", sms_callback_version = :version"),
        ("mms_callback", ", mms_callback_version = :version"),
        ("sms_dlr_callback", ""),
        ("mms_dlr_callback", ""),
    )
}


def _account(row: Row) -> Account:
    return Account(
        id=row["id"],
        access_key=row["access_key"],
        name=row["name"],
        sms_per_second=row["sms_per_second"],
        mms_per_second=row["mms_per_second"],
        webhook_secret=row["webhook_secret"],
    )


async def by_access_key(connection: Connection, key: str) -> tuple[Account, str] | None:
    row = await connection.fetchrow(_BY_KEY, {"key": key})
    return None if row is None else (_account(row), row["secret_hash"])


async def by_id(connection: Connection, account_id: int) -> Account | None:
    row = await connection.fetchrow(_BY_ID, {"id": account_id})
    return None if row is None else _account(row)


async def webhook_secrets(connection: Connection, account_ids: Sequence[int]) -> dict[int, str]:
    """The callback signing secret of each account among `account_ids` that has one."""
    rows = await connection.fetch(_WEBHOOK_SECRETS, {"ids": list(account_ids)})
    return {row["id"]: row["webhook_secret"] for row in rows if row["webhook_secret"]}


async def list_all(connection: Connection) -> list[Row]:
    return await connection.fetch(_LIST)


async def access_key_taken(connection: Connection, key: str) -> bool:
    return await connection.fetchval(_KEY_TAKEN, {"key": key}) is not None


async def insert(connection: Connection, *, key: str, name: str, secret_hash: str, now: int) -> int:
    account_id: int = await connection.fetchval(_INSERT, {"key": key, "name": name, "hash": secret_hash, "now": now})
    return account_id


async def set_secret_hash(connection: Connection, key: str, secret_hash: str) -> bool:
    return await _changed(connection, await connection.execute(_SET_SECRET, {"key": key, "hash": secret_hash}))


async def set_limits(connection: Connection, key: str, sms: int | None, mms: int | None) -> bool:
    return await _changed(connection, await connection.execute(_SET_LIMITS, {"key": key, "sms": sms, "mms": mms}))


async def set_webhook_secret(connection: Connection, key: str, secret: str | None) -> bool:
    changed = await connection.execute(_SET_WEBHOOK_SECRET, {"key": key, "secret": secret})
    return await _changed(connection, changed)


async def _changed(connection: Connection, rows: int) -> bool:
    """True when one account changed; then every process forgets the credentials it verified."""
    if rows != 1:
        return False
    await accounts_changed(connection)
    return True


async def callbacks(connection: Connection, account_id: int) -> dict[str, Any]:
    row = await connection.fetchrow(_CALLBACKS, {"id": account_id})
    return dict(row) if row is not None else {}


async def set_callback(
    connection: Connection, account_id: int, column: str, url: str | None, version: str = "2.1"
) -> None:
    await connection.execute(_SET_CALLBACK[column], {"id": account_id, "url": url, "version": version})
