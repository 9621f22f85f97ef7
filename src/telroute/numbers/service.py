"""Numbers use cases: search the inventory, buy, manage and release numbers, routes. Never commits."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from itertools import islice
from typing import Any

import msgspec

from telroute.accounts.model import Account, callback_column
from telroute.errors import NotFound
from telroute.kit.db import Connection, Row
from telroute.kit.jsonapi import Page
from telroute.numbers import repository
from telroute.numbers.inputs import NewRoute, NumberPatch, PurchaseBody
from telroute.numbers.inventory import InventoryRow
from telroute.numbers.repository import NumberFilters

ROUTE_KINDS = ("primary", "failover")


def _not_owned(value: str) -> NotFound:
    return NotFound(f"number {value} was not found on this account")


async def search_available(connection: Connection, filters: NumberFilters, page: Page) -> tuple[list[Row], bool]:
    rows = await repository.search(connection, filters, account_id=None, limit=page.limit + 1, offset=page.offset)
    return rows[: page.limit], len(rows) > page.limit


async def search_owned(
    connection: Connection, account: Account, filters: NumberFilters, page: Page
) -> tuple[list[Row], bool]:
    rows = await repository.search(connection, filters, account_id=account.id, limit=page.limit + 1, offset=page.offset)
    return rows[: page.limit], len(rows) > page.limit


async def areacodes(connection: Connection, max_cost: int, page: Page) -> tuple[list[str], bool]:
    found = await repository.areacodes(connection, max_cost=max_cost, limit=page.limit + 1, offset=page.offset)
    return found[: page.limit], len(found) > page.limit


async def exchanges(connection: Connection, areacode: str | None, max_cost: int, page: Page) -> tuple[list[str], bool]:
    found = await repository.exchanges(
        connection, areacode=areacode, max_cost=max_cost, limit=page.limit + 1, offset=page.offset
    )
    return found[: page.limit], len(found) > page.limit


async def purchase(
    connection: Connection, account: Account, value: str, body: PurchaseBody, *, now: int
) -> tuple[Row, list[Row]]:
    bought = await repository.purchase(
        connection, value, account.id, cnam=body.cnam_lookups_enabled, messaging=body.messaging_enabled, now=now
    )
    if not bought:
        raise NotFound(f"number {value} is not available for purchase")
    return await detail(connection, account, value)


async def detail(connection: Connection, account: Account, value: str) -> tuple[Row, list[Row]]:
    row = await repository.owned(connection, value, account.id)
    if row is None:
        raise _not_owned(value)
    route_ids = [row["primary_route_id"], row["failover_route_id"]]
    routes = await repository.routes_by_ids(connection, [rid for rid in route_ids if rid is not None], account.id)
    return row, routes


async def release(connection: Connection, account: Account, value: str) -> None:
    if not await repository.release(connection, value, account.id):
        raise _not_owned(value)


async def update(connection: Connection, account: Account, value: str, patch: NumberPatch) -> tuple[Row, list[Row]]:
    await detail(connection, account, value)
    if not isinstance(patch.alias, msgspec.UnsetType):
        await repository.set_alias(connection, value, account.id, patch.alias)
    if not isinstance(patch.cnam_lookups_enabled, msgspec.UnsetType):
        await repository.set_cnam(connection, value, account.id, patch.cnam_lookups_enabled)
    return await detail(connection, account, value)


async def set_number_route(connection: Connection, account: Account, value: str, kind: str, route_id: int) -> None:
    await detail(connection, account, value)
    if await repository.route(connection, route_id, account.id) is None:
        raise NotFound(f"route {route_id} was not found on this account")
    await repository.set_route(connection, value, account.id, kind, route_id)


async def set_number_callback(
    connection: Connection, account: Account, value: str, callback_type: str, url: str | None
) -> None:
    await detail(connection, account, value)
    await repository.set_callback(connection, value, account.id, callback_column(callback_type), url)


async def list_routes(
    connection: Connection, account: Account, route_type: str | None, page: Page
) -> tuple[list[Row], bool]:
    rows = await repository.routes(connection, account.id, route_type, limit=page.limit + 1, offset=page.offset)
    return rows[: page.limit], len(rows) > page.limit


async def get_route(connection: Connection, account: Account, route_id: int) -> Row:
    row = await repository.route(connection, route_id, account.id)
    if row is None:
        raise NotFound(f"route {route_id} was not found on this account")
    return row


async def create_route(connection: Connection, account: Account, body: NewRoute, *, now: int) -> Row:
    attributes: dict[str, Any] = {
        "route_type": body.route_type,
        "value": body.value,
        "alias": body.alias,
        "edge_strategy": None if body.edge_strategy is None else str(body.edge_strategy),
    }
    route_id = await repository.insert_route(connection, account.id, attributes, now)
    return await get_route(connection, account, route_id)


_CHUNK = 20_000
_LOOKUP_CHUNK = 500
Progress = Callable[[int], None]


def _no_progress(done: int) -> None:
    pass


def _chunks(rows: Iterable[InventoryRow]) -> Iterator[list[InventoryRow]]:
    source = iter(rows)
    while chunk := list(islice(source, _CHUNK)):
        yield chunk


async def _insert_chunk(
    connection: Connection, chunk: list[InventoryRow], blocks: Counter[tuple[str, str, int]]
) -> None:
    if chunk:
        await repository.insert_inventory(connection, (row._asdict() for row in chunk))
        blocks.update((row.npa, row.nxx, row.setup_cost_nd) for row in chunk)


async def add_inventory(connection: Connection, rows: Iterable[InventoryRow], progress: Progress = _no_progress) -> int:
    """Insert inventory rows (all or nothing: the caller's transaction) and count them into blocks."""
    blocks: Counter[tuple[str, str, int]] = Counter()
    total = 0
    for chunk in _chunks(rows):
        await _insert_chunk(connection, chunk, blocks)
        total += len(chunk)
        progress(len(chunk))
    await repository.add_to_blocks(connection, dict(blocks))
    await repository.refresh_statistics(connection)
    return total


async def add_missing_inventory(
    connection: Connection, rows: Iterable[InventoryRow], progress: Progress = _no_progress
) -> tuple[int, int]:
    """Insert the rows whose numbers are not in the database yet: (added, skipped). Existing rows stay as they are."""
    blocks: Counter[tuple[str, str, int]] = Counter()
    added = skipped = 0
    for chunk in _chunks(rows):
        existing = {value for value, _ in await conflicts_with_existing(connection, chunk)}
        fresh = [row for row in chunk if row.value not in existing]
        await _insert_chunk(connection, fresh, blocks)
        added += len(fresh)
        skipped += len(chunk) - len(fresh)
        progress(len(chunk))
    await repository.add_to_blocks(connection, dict(blocks))
    await repository.refresh_statistics(connection)
    return added, skipped


async def conflicts_with_existing(
    connection: Connection, rows: Sequence[InventoryRow], progress: Progress = _no_progress
) -> list[tuple[str, str]]:
    """Numbers of an import that exist already: (value, why)."""
    conflicts: list[tuple[str, str]] = []
    for start in range(0, len(rows), _LOOKUP_CHUNK):
        values = [row.value for row in rows[start : start + _LOOKUP_CHUNK]]
        for value, owner in (await repository.existing_values(connection, values)).items():
            conflicts.append((value, "already in the inventory" if owner is None else "owned by an account"))
        progress(len(values))
    return conflicts


@dataclass(frozen=True, slots=True)
class ImportResult:
    added: int
    conflicts: list[tuple[str, str]]


async def import_inventory(
    connection: Connection,
    rows: Sequence[InventoryRow],
    *,
    checked: Progress = _no_progress,
    added: Progress = _no_progress,
) -> ImportResult:
    """All or nothing, in the caller's transaction: when any number exists already (in the inventory or
    owned by an account) nothing is added and the conflicts are returned."""
    conflicts = await conflicts_with_existing(connection, rows, checked)
    if conflicts:
        return ImportResult(0, conflicts)
    return ImportResult(await add_inventory(connection, rows, added), [])


async def inventory_stats(connection: Connection) -> dict[str, int]:
    row = await repository.inventory_stats(connection)
    figures = {key: int(row[key] or 0) for key in ("total", "available", "areacodes")}
    return {
        "total": figures["total"],
        "available": figures["available"],
        "owned": figures["total"] - figures["available"],
        "areacodes": figures["areacodes"],
    }


async def inventory_is_empty(connection: Connection) -> bool:
    return await repository.inventory_is_empty(connection)
