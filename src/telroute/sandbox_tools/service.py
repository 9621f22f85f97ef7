"""Sandbox use cases: throwaway accounts, reset, search. Never commits: the caller owns the transaction."""

from __future__ import annotations

import random

from telroute.accounts import repository as accounts_repository
from telroute.accounts import service as accounts_service
from telroute.accounts.model import Account, NewKeys
from telroute.cnam import repository as cnam_repository
from telroute.e911 import repository as e911_repository
from telroute.errors import NotFound, Unprocessable
from telroute.kit.db import Connection, Row
from telroute.kit.jsonapi import Page
from telroute.messages import repository as messages_repository
from telroute.numbers import repository as numbers_repository
from telroute.numbers.model import prefix_upper_bound
from telroute.numbers.repository import NumberFilters
from telroute.sandbox_tools import faults_service, repository
from telroute.sandbox_tools.model import MessageFilters, NewAccountRequest

_PICK_ROUNDS = 10
_SPARE_CANDIDATES = 20  # chosen from at random, so that accounts created together rarely want the same number


async def _buy(connection: Connection, account_id: int, value: str, *, now: int) -> bool:
    return await numbers_repository.purchase(connection, value, account_id, cnam=True, messaging=True, now=now)


async def _buy_wanted(
    connection: Connection, account_id: int, wanted: tuple[str, ...], *, now: int, pointer: str
) -> None:
    for index, value in enumerate(wanted):
        if not await _buy(connection, account_id, value, now=now):
            raise Unprocessable(f"number {value} is not available for purchase", pointer=f"{pointer}/{index}")


async def _pick(
    connection: Connection, account_id: int, count: int, prefix: str | None, *, now: int, pointer: str
) -> list[str]:
    """`count` available numbers (starting with `prefix`), bought; a rival's purchase means another try."""
    filters = NumberFilters() if prefix is None else NumberFilters(low=prefix, high=prefix_upper_bound(prefix))
    bought: list[str] = []
    for _ in range(_PICK_ROUNDS):
        missing = count - len(bought)
        if missing == 0:
            break
        limit = missing + _SPARE_CANDIDATES
        found = await numbers_repository.search(connection, filters, account_id=None, limit=limit, offset=0)
        if not found:
            break
        # A random choice among the candidates, tried in ascending order: two accounts' purchases lock
        # numbers in the same order, so one waits for the other instead of deadlocking.
        chosen = sorted(random.sample([row["value"] for row in found], min(missing, len(found))))
        bought += [value for value in chosen if await _buy(connection, account_id, value, now=now)]
    if len(bought) < count:
        where = f" in area code {prefix[1:]}" if prefix else ""
        raise Unprocessable(f"only {len(bought)} of {count} numbers are available{where}", pointer=pointer)
    return bought


async def create_account(
    connection: Connection,
    request: NewAccountRequest,
    callbacks: dict[str, str | None],
    *,
    now: int,
    pointer: str = "",
) -> tuple[NewKeys, list[str]]:
    """A new account with its numbers bought and its callbacks (already checked) set; `pointer`: the body's
    attributes, for errors about its `numbers`."""
    keys = await accounts_service.create(connection, request.name, now=now)
    found = await accounts_repository.by_access_key(connection, keys.access_key)
    assert found is not None
    account = found[0]
    where = f"{pointer}/numbers"
    await _buy_wanted(connection, account.id, request.wanted, now=now, pointer=where)
    picked = []
    if request.count:
        picked = await _pick(connection, account.id, request.count, request.area_code, now=now, pointer=where)
    for callback_type, url in callbacks.items():
        await accounts_service.set_callback(connection, account, callback_type, url)
    return keys, [*request.wanted, *picked]


async def delete_account(connection: Connection, access_key: str) -> None:
    """The account and everything it owns; its numbers go back to the inventory."""
    found = None if "\x00" in access_key else await accounts_repository.by_access_key(connection, access_key)
    if found is None:
        raise NotFound(f"no account with access key {access_key}")
    account_id = found[0].id
    await repository.delete_message_data(connection, account_id)
    await faults_service.forget(connection, account_id)
    await repository.forget_number_settings(connection, account_id)
    for value in await repository.owned_numbers(connection, account_id):
        await numbers_repository.release(connection, value, account_id)
    await e911_repository.forget(connection, account_id)
    await cnam_repository.forget(connection, account_id)
    await repository.delete_account_rows(connection, account_id)


async def reset(connection: Connection, account: Account) -> None:
    """Forget the account's messages and everything about them, and its fault rules; keep the account,
    numbers and settings."""
    await repository.delete_message_data(connection, account.id)
    await faults_service.forget(connection, account.id)


async def with_receipts(connection: Connection, rows: list[Row]) -> list[tuple[Row, list[Row]]]:
    receipts = await messages_repository.receipts_of(connection, [row["id"] for row in rows])
    return [(row, receipts[row["id"]]) for row in rows]


async def search(
    connection: Connection, account: Account, filters: MessageFilters, page: Page
) -> tuple[list[tuple[Row, list[Row]]], bool]:
    rows = await repository.search(connection, account.id, filters, limit=page.limit + 1, offset=page.offset)
    return await with_receipts(connection, rows[: page.limit]), len(rows) > page.limit


async def newest(connection: Connection, account: Account, limit: int) -> list[Row]:
    return await repository.newest(connection, account.id, limit)
