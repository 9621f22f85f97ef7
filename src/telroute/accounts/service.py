"""Account use cases. Never commits: the caller owns the transaction."""

from __future__ import annotations

from telroute.accounts import repository
from telroute.accounts.model import (
    Account,
    NewKeys,
    callback_column,
    hash_secret,
    new_access_key,
    new_secret_key,
    rate_buckets,
    secret_matches,
)
from telroute.errors import NotFound, Unauthorized
from telroute.kit import ratelimit
from telroute.kit.db import Connection, Row


async def create(connection: Connection, name: str, *, now: int) -> NewKeys:
    key = new_access_key()
    while await repository.access_key_taken(connection, key):
        key = new_access_key()
    secret = new_secret_key()
    await repository.insert(connection, key=key, name=name, secret_hash=hash_secret(secret), now=now)
    return NewKeys(access_key=key, secret_key=secret)


async def rotate_secret(connection: Connection, access_key: str) -> str:
    secret = new_secret_key()
    if not await repository.set_secret_hash(connection, access_key, hash_secret(secret)):
        raise NotFound(f"no account with access key {access_key}")
    return secret


async def set_limits(connection: Connection, access_key: str, sms: int | None, mms: int | None) -> None:
    """New send limits, in force at once with a full second's burst (the next send reads them)."""
    found = await repository.by_access_key(connection, access_key)
    if found is None or not await repository.set_limits(connection, access_key, sms, mms):
        raise NotFound(f"no account with access key {access_key}")
    await ratelimit.forget(connection, rate_buckets(found[0].id))


async def set_webhook_secret(connection: Connection, access_key: str, secret: str | None) -> None:
    if not await repository.set_webhook_secret(connection, access_key, secret):
        raise NotFound(f"no account with access key {access_key}")


async def authenticate(connection: Connection, credentials: tuple[str, str] | None) -> Account:
    """The account of parsed Basic credentials (`model.parse_basic_auth`); 401 otherwise."""
    if credentials is None:
        raise Unauthorized("HTTP Basic authentication with your access key and secret key is required")
    key = credentials[0]
    # No key holds a NUL, and PostgreSQL text cannot: such a key is simply unknown.
    found = None if "\x00" in key else await repository.by_access_key(connection, key)
    # Hash the offered secret even for an unknown key, so timing does not reveal which keys exist.
    stored = found[1] if found is not None else "0" * 64
    if not secret_matches(credentials[1], stored) or found is None:
        raise Unauthorized("invalid access key or secret key")
    return found[0]


async def set_callback(
    connection: Connection, account: Account, callback_type: str, url: str | None, version: str = "2.1"
) -> None:
    """`version`: the API version the URL was set through, which its inbound callbacks speak."""
    await repository.set_callback(connection, account.id, callback_column(callback_type), url, version)


async def list_all(connection: Connection) -> list[Row]:
    """Every account, oldest first, with its limits and whether its callbacks are signed (never a secret hash)."""
    return await repository.list_all(connection)
