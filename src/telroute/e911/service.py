"""E911 use cases: check, store, change and remove addresses; attach them to an account's numbers.
Never commits; a resource of another account is a 404 like one that does not exist."""

from __future__ import annotations

import asyncio

from telroute.accounts.model import Account
from telroute.e911 import model, repository
from telroute.e911.model import Address, AddressFields
from telroute.e911.places import PlaceError
from telroute.errors import BadRequest, NotFound, Unprocessable
from telroute.kit.db import Connection, Row
from telroute.kit.jsonapi import Page
from telroute.numbers import repository as numbers_repository

POINTER = "/data/attributes"


def _not_found(address_id: int) -> NotFound:
    return NotFound(f"E911 address {address_id} was not found on this account")


async def checked(values: dict[str, object]) -> Address:
    """A complete address whose place is real. The ZIP dataset may load on first use: off the loop."""
    try:
        address = model.complete(values)
        return await asyncio.to_thread(model.checked, address)
    except model.MissingField as exc:
        raise BadRequest(str(exc), pointer=f"{POINTER}/{exc.field}") from exc
    except PlaceError as exc:
        raise Unprocessable(exc.detail, pointer=f"{POINTER}/{exc.field}") from exc


def given(fields: AddressFields) -> dict[str, object]:
    try:
        return model.given(fields)
    except PlaceError as exc:
        raise BadRequest(exc.detail, pointer=f"{POINTER}/{exc.field}") from exc


async def page(connection: Connection, account: Account, state: str | None, page: Page) -> tuple[list[Row], bool]:
    rows = await repository.page(connection, account.id, state, limit=page.limit + 1, offset=page.offset)
    return rows[: page.limit], len(rows) > page.limit


async def get(connection: Connection, account: Account, address_id: int) -> Row:
    row = await repository.get(connection, address_id, account.id)
    if row is None:
        raise _not_found(address_id)
    return row


async def create(connection: Connection, account: Account, address: Address, *, now: int) -> Row:
    address_id = await repository.insert(connection, account.id, address, now)
    return await get(connection, account, address_id)


async def stored_values(connection: Connection, account: Account, address_id: int) -> dict[str, object]:
    return dict(await get(connection, account, address_id))


async def update(connection: Connection, account: Account, address_id: int, address: Address) -> Row:
    await get(connection, account, address_id)
    await repository.update(connection, address_id, account.id, address)
    return await get(connection, account, address_id)


async def delete(connection: Connection, account: Account, address_id: int) -> None:
    await get(connection, account, address_id)
    attached = await repository.numbers_attached(connection, address_id, account.id)
    if attached:
        raise Unprocessable(
            f"E911 address {address_id} is assigned to {attached} number(s); disconnect them first",
            code="e911_address_in_use",
        )
    await repository.delete(connection, address_id, account.id)


async def numbers(connection: Connection, account: Account, address_id: int, page: Page) -> tuple[list[Row], bool]:
    await get(connection, account, address_id)
    rows = await repository.numbers(connection, address_id, account.id, limit=page.limit + 1, offset=page.offset)
    return rows[: page.limit], len(rows) > page.limit


async def _owned_number(connection: Connection, account: Account, value: str) -> None:
    if await numbers_repository.owned(connection, value, account.id) is None:
        raise NotFound(f"number {value} was not found on this account")


async def associate(connection: Connection, account: Account, value: str, address_id: int) -> None:
    await _owned_number(connection, account, value)
    await get(connection, account, address_id)
    await repository.attach(connection, value, account.id, address_id)


async def disconnect(connection: Connection, account: Account, value: str) -> None:
    await _owned_number(connection, account, value)
    await repository.attach(connection, value, account.id, None)
