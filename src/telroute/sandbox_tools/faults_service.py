"""Sandbox faults use cases: create, list and delete an account's rules, and take the rule that applies
to a delivery or an API call (counting it down). Never commits: the caller owns the transaction."""

from __future__ import annotations

from collections.abc import Callable

from telroute.accounts.model import Account
from telroute.errors import NotFound
from telroute.kit.db import Connection, Row
from telroute.sandbox_tools import faults_repository as repository
from telroute.sandbox_tools.fault_rules import FaultRule, applies_to_call, drawn

Draw = Callable[[], float]  # a uniform random number in [0, 1)


async def create(connection: Connection, account: Account, rule: FaultRule, *, now: int) -> Row:
    return await repository.insert(connection, account.id, rule, now=now)


async def of_account(connection: Connection, account: Account) -> list[Row]:
    return await repository.of_account(connection, account.id)


def _fault_id(raw: str) -> int | None:
    return int(raw) if raw.isascii() and raw.isdigit() and len(raw) <= 18 else None


async def delete(connection: Connection, account: Account, raw_id: str) -> None:
    """404 for another account's rule as for one that never existed."""
    fault_id = _fault_id(raw_id)
    if fault_id is None or not await repository.delete(connection, account.id, fault_id):
        raise NotFound(f"no fault rule {raw_id} on this account")


async def forget(connection: Connection, account_id: int) -> None:
    await repository.delete_all(connection, account_id)


async def _first_taken(connection: Connection, candidates: list[Row], draw: Draw) -> Row | None:
    """The first candidate whose share draws this use and that has a use left (counted down here)."""
    for row in candidates:
        if not drawn(row["share"], draw()):
            continue
        if row["remaining"] is not None and not await repository.use(connection, row["id"]):
            continue
        return row
    return None


async def accounts_with_delivery_rules(connection: Connection, account_ids: list[int], *, now: int) -> set[int]:
    """Which of these accounts have any active delivery rule: one read for many deliveries."""
    return await repository.accounts_with_delivery_rules(connection, account_ids, now=now)


async def has_delivery_rule(connection: Connection, account_id: int, to_number: str, *, now: int) -> bool:
    """Whether any active rule matches: a read, so that messages without rules cost no write."""
    return bool(await repository.delivery_candidates(connection, account_id, to_number, now=now))


async def take_delivery(connection: Connection, account_id: int, to_number: str, *, now: int, draw: Draw) -> Row | None:
    """The delivery rule for a message to `to_number`: the longest matching prefix, newest first."""
    candidates = await repository.delivery_candidates(connection, account_id, to_number, now=now)
    return await _first_taken(connection, candidates, draw)


async def take_api(
    connection: Connection, account_id: int, method: str, path: str, *, now: int, draw: Draw
) -> Row | None:
    """The API rule for this call: the newest active rule that matches it."""
    rules = await repository.api_rules(connection, account_id, now=now)
    return await _first_taken(
        connection, [row for row in rules if applies_to_call(row["match_value"], method, path)], draw
    )


async def accounts_with_api_rules(connection: Connection, *, now: int) -> set[int]:
    return await repository.accounts_with_api_rules(connection, now=now)
