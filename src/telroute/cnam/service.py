"""CNAM use cases: create, list, remove presets; assign an approved one to a number; an operator's
decision. Never commits; another account's preset is a 404 like one that does not exist."""

from __future__ import annotations

from telroute.accounts.model import Account
from telroute.cnam import model, repository
from telroute.cnam.model import Approval
from telroute.errors import NotFound, Unprocessable
from telroute.kit.db import Connection, Row
from telroute.kit.jsonapi import Page
from telroute.numbers import repository as numbers_repository


class NotPending(ValueError):
    """An operator may decide only a preset that is still pending."""


def _not_found(preset_id: int) -> NotFound:
    return NotFound(f"CNAM preset {preset_id} was not found on this account")


async def page(
    connection: Connection, account: Account, approved: bool | None, page: Page, *, approval: Approval, now: int
) -> tuple[list[Row], bool]:
    rows = await repository.page(
        connection, account.id, approved, cutoff=approval.cutoff(now), limit=page.limit + 1, offset=page.offset
    )
    return rows[: page.limit], len(rows) > page.limit


async def get(connection: Connection, account: Account, preset_id: int) -> Row:
    row = await repository.get(connection, preset_id, account.id)
    if row is None:
        raise _not_found(preset_id)
    return row


async def create(connection: Connection, account: Account, value: str, *, pointer: str, now: int) -> Row:
    broken = model.rule_broken(value)
    if broken is not None:
        raise Unprocessable(broken, pointer=pointer, code="invalid_cnam")
    if await repository.exists(connection, account.id, value):
        raise Unprocessable("Duplicate CNAM entry found on your account", pointer=pointer, code="duplicate_cnam")
    return await get(connection, account, await repository.insert(connection, account.id, value, now))


async def delete(connection: Connection, account: Account, preset_id: int) -> None:
    await get(connection, account, preset_id)
    await repository.delete(connection, preset_id, account.id)


async def _owned_number(connection: Connection, account: Account, value: str) -> None:
    if await numbers_repository.owned(connection, value, account.id) is None:
        raise NotFound(f"number {value} was not found on this account")


async def associate(
    connection: Connection, account: Account, value: str, preset_id: int, *, approval: Approval, now: int
) -> None:
    await _owned_number(connection, account, value)
    approved, _ = approval.state(await get(connection, account, preset_id), now)
    if not approved:
        raise Unprocessable(f"CNAM preset {preset_id} is not approved; only an approved preset can be assigned")
    await repository.attach(connection, value, account.id, preset_id)


async def unassociate(connection: Connection, account: Account, value: str) -> None:
    await _owned_number(connection, account, value)
    await repository.attach(connection, value, account.id, None)


async def decide(connection: Connection, preset_id: int, *, approve: bool, reason: str | None, now: int) -> Row:
    """An operator's approval or rejection (any account's preset). A rejected preset leaves its numbers."""
    row = await repository.get_any(connection, preset_id)
    if row is None:
        raise NotFound(f"CNAM preset {preset_id} does not exist")
    if row["status"] != model.PENDING:
        raise NotPending(f"CNAM preset {preset_id} is already {row['status']}")
    status = model.APPROVED if approve else model.REJECTED
    await repository.decide(connection, preset_id, status, None if approve else reason, now)
    found = await repository.get_any(connection, preset_id)
    assert found is not None
    return found
