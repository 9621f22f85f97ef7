"""All SQL of the numbers feature: inventory, owned numbers, routes, per-number callbacks."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any

from telroute.kit.db import Connection, Row, in_params, placeholders, sql
from telroute.numbers.answers import inventory_changed

_NUMBER_COLUMNS = (
    "value, state, rate_center, number_type, setup_cost_nd, monthly_cost_nd, alias, "
    "cnam_lookups_enabled, messaging_enabled, primary_route_id, failover_route_id, e911_address_id, cnam_preset_id"
)
# Only what each list renders: every column read costs on the search path.
_AVAILABLE_COLUMNS = "value, state, rate_center, number_type, setup_cost_nd, monthly_cost_nd"
_OWNED_COLUMNS = "value, state, rate_center, number_type, alias, cnam_lookups_enabled"


@dataclass(frozen=True, slots=True)
class NumberFilters:
    """Search filters, already normalized. `low`/`high` bound `value` (from `starts_with`)."""

    low: str = "1"
    high: str = "2"
    contains: str | None = None
    ends_with: str | None = None
    state: str | None = None
    rate_center: str | None = None
    number_type: str | None = None
    alias: str | None = None

    def params(self) -> dict[str, Any]:
        return {
            "low": self.low,
            "high": self.high,
            "contains": f"%{self.contains}%" if self.contains else None,
            "ends_with": f"%{self.ends_with}" if self.ends_with else None,
            "state": self.state,
            "rate_center": self.rate_center,
            "number_type": self.number_type,
            "alias": self.alias,
        }


_OPTIONAL = {
    "contains": "value LIKE :contains",
    "ends_with": "value LIKE :ends_with",
    "state": "state = :state",
    "rate_center": "rate_center = :rate_center",
    "number_type": "number_type = :number_type",
    "alias": "alias = :alias",
}


def _inventory_index(present: tuple[str, ...]) -> str:
    """The index that yields matching available numbers in `value` order (see the migration)."""
    if "state" in present:
        return "numbers_available_rate_center" if "rate_center" in present else "numbers_available_state"
    return "numbers_available_type" if "number_type" in present else "numbers_account_value"


@cache
def _search_query(owner: bool, present: tuple[str, ...]) -> Any:
    conditions = ["account_id = :account" if owner else "account_id IS NULL", "value >= :low", "value < :high"]
    conditions += [_OPTIONAL[name] for name in present]
    columns = _OWNED_COLUMNS if owner else _AVAILABLE_COLUMNS
    where = f"WHERE {' AND '.join(conditions)} ORDER BY value LIMIT :limit OFFSET :offset"
    if owner:
        return sql(f"SELECT {columns} FROM numbers {where}")
    # SQLite has no table statistics here and, left to guess, walks (account_id, value) through every
    # available number when a state or type filter has an index of its own; PostgreSQL plans from statistics.
    hinted = f"SELECT {columns} FROM numbers INDEXED BY {_inventory_index(present)} {where}"
    return sql(hinted, postgres=f"SELECT {columns} FROM numbers {where}")


async def search(
    connection: Connection, filters: NumberFilters, *, account_id: int | None, limit: int, offset: int
) -> list[Row]:
    params = filters.params()
    present = tuple(name for name in _OPTIONAL if params[name] is not None)
    query = _search_query(account_id is not None, present)
    values = {key: params[key] for key in ("low", "high", *present)}
    values.update(account=account_id, limit=limit, offset=offset)
    if account_id is None:
        values.pop("account")
    return await connection.fetch(query, values)


# A loose index scan: each step seeks the next area code in `inventory_blocks_cost` (npa, setup_cost_nd,
# available) instead of reading every block of every area code, as SELECT DISTINCT would (10x faster).
_AREACODES = sql(
    """WITH RECURSIVE codes(npa) AS (
         SELECT (SELECT MIN(npa) FROM inventory_blocks WHERE available > 0 AND setup_cost_nd <= :max_cost)
         UNION ALL
         SELECT (SELECT MIN(b.npa) FROM inventory_blocks AS b
                 WHERE b.npa > codes.npa AND b.available > 0 AND b.setup_cost_nd <= :max_cost)
         FROM codes WHERE codes.npa IS NOT NULL
       )
       SELECT npa FROM codes WHERE npa IS NOT NULL LIMIT :limit OFFSET :offset"""
)
_EXCHANGES = sql(
    "SELECT DISTINCT npa, nxx FROM inventory_blocks WHERE available > 0 AND setup_cost_nd <= :max_cost "
    "AND npa >= :npa_low AND npa <= :npa_high ORDER BY npa, nxx LIMIT :limit OFFSET :offset"
)


async def areacodes(connection: Connection, *, max_cost: int, limit: int, offset: int) -> list[str]:
    rows = await connection.fetch(_AREACODES, {"max_cost": max_cost, "limit": limit, "offset": offset})
    return [row["npa"] for row in rows]


async def exchanges(
    connection: Connection, *, areacode: str | None, max_cost: int, limit: int, offset: int
) -> list[str]:
    params = {
        "max_cost": max_cost,
        "npa_low": areacode or "000",
        "npa_high": areacode or "999",
        "limit": limit,
        "offset": offset,
    }
    return [row["npa"] + row["nxx"] for row in await connection.fetch(_EXCHANGES, params)]


_PURCHASE = sql(
    """UPDATE numbers SET account_id = :account, purchased_at_us = :now, alias = NULL,
         cnam_lookups_enabled = :cnam, messaging_enabled = :messaging, primary_route_id = 0,
         failover_route_id = NULL, sms_callback = NULL, mms_callback = NULL, sms_dlr_callback = NULL,
         mms_dlr_callback = NULL, e911_address_id = NULL, cnam_preset_id = NULL
       WHERE value = :value AND account_id IS NULL
       RETURNING npa, nxx, setup_cost_nd"""
)
_RELEASE = sql(
    """UPDATE numbers SET account_id = NULL, purchased_at_us = NULL, alias = NULL, e911_address_id = NULL,
         cnam_preset_id = NULL
       WHERE value = :value AND account_id = :account
       RETURNING npa, nxx, setup_cost_nd"""
)
_BLOCK_TAKE = sql(
    "UPDATE inventory_blocks SET available = available - 1 "
    "WHERE npa = :npa AND nxx = :nxx AND setup_cost_nd = :setup_cost_nd"
)
_BLOCK_ADD = sql(
    "INSERT INTO inventory_blocks (npa, nxx, setup_cost_nd, available) VALUES (:npa, :nxx, :setup_cost_nd, :count) "
    "ON CONFLICT (npa, nxx, setup_cost_nd) DO UPDATE SET available = inventory_blocks.available + :count"
)


async def purchase(
    connection: Connection, value: str, account_id: int, *, cnam: bool, messaging: bool, now: int
) -> bool:
    params = {"value": value, "account": account_id, "cnam": cnam, "messaging": messaging, "now": now}
    row = await connection.fetchrow(_PURCHASE, params)
    if row is None:
        return False
    await connection.execute(_BLOCK_TAKE, dict(row))
    await inventory_changed(connection)
    return True


async def release(connection: Connection, value: str, account_id: int) -> bool:
    row = await connection.fetchrow(_RELEASE, {"value": value, "account": account_id})
    if row is None:
        return False
    await connection.execute(_BLOCK_ADD, {**dict(row), "count": 1})
    await inventory_changed(connection)
    return True


_OWNED = sql(f"SELECT {_NUMBER_COLUMNS} FROM numbers WHERE value = :value AND account_id = :account")
_SET_ALIAS = sql("UPDATE numbers SET alias = :alias WHERE value = :value AND account_id = :account")
_SET_CNAM = sql("UPDATE numbers SET cnam_lookups_enabled = :cnam WHERE value = :value AND account_id = :account")
_SET_ROUTE = {
    kind: sql(f"UPDATE numbers SET {kind}_route_id = :route WHERE value = :value AND account_id = :account")
    for kind in ("primary", "failover")
}
_SET_CALLBACK = {
    column: sql(f"UPDATE numbers SET {column} = :url WHERE value = :value AND account_id = :account")
    for column in ("sms_callback", "mms_callback", "sms_dlr_callback", "mms_dlr_callback")
}
_OWNER_COLUMNS = (
    "account_id, messaging_enabled, number_type, sms_callback, mms_callback, sms_dlr_callback, mms_dlr_callback"
)
_OWNER = sql(f"SELECT {_OWNER_COLUMNS} FROM numbers WHERE value = :value AND account_id IS NOT NULL")
_OWNERS = sql(
    f"SELECT value, {_OWNER_COLUMNS} FROM numbers "
    "WHERE value IN (SELECT value FROM json_each(:values)) AND account_id IS NOT NULL",
    postgres=f"SELECT value, {_OWNER_COLUMNS} FROM numbers WHERE value = ANY(:values) AND account_id IS NOT NULL",
)

# An account's DLR callbacks and, when the account owns `value`, that number's: one round trip for the
# precedence of `messages.delivery._dlr_url` instead of two.
_DLR_CALLBACKS = sql(
    "SELECT n.sms_dlr_callback AS number_sms_dlr_callback, n.mms_dlr_callback AS number_mms_dlr_callback, "
    "a.sms_dlr_callback, a.mms_dlr_callback FROM accounts a "
    "LEFT JOIN numbers n ON n.value = :value AND n.account_id = a.id WHERE a.id = :account"
)


async def owned(connection: Connection, value: str, account_id: int) -> Row | None:
    return await connection.fetchrow(_OWNED, {"value": value, "account": account_id})


async def owner_of(connection: Connection, value: str) -> Row | None:
    """The owning account and callback settings of an on-net number (any account)."""
    return await connection.fetchrow(_OWNER, {"value": value})


async def owners_of(connection: Connection, values: Sequence[str]) -> dict[str, Row]:
    """`owner_of` for many numbers: the on-net ones among `values`, by number."""
    return {row["value"]: row for row in await connection.fetch(_OWNERS, {"values": list(values)})}


async def dlr_callbacks(connection: Connection, value: str, account_id: int) -> Row | None:
    """`sms_dlr_callback`/`mms_dlr_callback` of the account, `number_`-prefixed those of its number `value`
    (None when the account does not own it); None when there is no such account."""
    return await connection.fetchrow(_DLR_CALLBACKS, {"value": value, "account": account_id})


async def set_alias(connection: Connection, value: str, account_id: int, alias: str | None) -> None:
    await connection.execute(_SET_ALIAS, {"value": value, "account": account_id, "alias": alias})


async def set_cnam(connection: Connection, value: str, account_id: int, enabled: bool) -> None:
    await connection.execute(_SET_CNAM, {"value": value, "account": account_id, "cnam": enabled})


async def set_route(connection: Connection, value: str, account_id: int, kind: str, route_id: int) -> None:
    await connection.execute(_SET_ROUTE[kind], {"value": value, "account": account_id, "route": route_id})


async def set_callback(connection: Connection, value: str, account_id: int, column: str, url: str | None) -> None:
    await connection.execute(_SET_CALLBACK[column], {"value": value, "account": account_id, "url": url})


_ROUTE_COLUMNS = "id, route_type, value, alias, edge_strategy"
# An account's routes, led by the built-in route 0 (sip-reg, no account) as Flowroute's list shows it.
_ROUTES = sql(
    f"SELECT {_ROUTE_COLUMNS} FROM routes WHERE (account_id = :account OR account_id IS NULL) "
    "AND (:route_type IS NULL OR route_type = :route_type) ORDER BY id LIMIT :limit OFFSET :offset",
    postgres=f"SELECT {_ROUTE_COLUMNS} FROM routes WHERE (account_id = :account OR account_id IS NULL) "
    "AND (CAST(:route_type AS TEXT) IS NULL OR route_type = :route_type) ORDER BY id LIMIT :limit OFFSET :offset",
)
_ROUTE = sql(f"SELECT {_ROUTE_COLUMNS} FROM routes WHERE id = :id AND (account_id = :account OR account_id IS NULL)")
_INSERT_ROUTE = sql(
    "INSERT INTO routes (account_id, route_type, value, alias, edge_strategy, created_at_us) "
    "VALUES (:account, :route_type, :value, :alias, :edge_strategy, :now) RETURNING id"
)


async def routes(
    connection: Connection, account_id: int, route_type: str | None, *, limit: int, offset: int
) -> list[Row]:
    params = {"account": account_id, "route_type": route_type, "limit": limit, "offset": offset}
    return await connection.fetch(_ROUTES, params)


async def route(connection: Connection, route_id: int, account_id: int) -> Row | None:
    return await connection.fetchrow(_ROUTE, {"id": route_id, "account": account_id})


async def routes_by_ids(connection: Connection, route_ids: Sequence[int], account_id: int) -> list[Row]:
    found = [await route(connection, route_id, account_id) for route_id in dict.fromkeys(route_ids)]
    return [row for row in found if row is not None]


async def insert_route(connection: Connection, account_id: int, attributes: dict[str, Any], now: int) -> int:
    route_id: int = await connection.fetchval(_INSERT_ROUTE, {"account": account_id, "now": now, **attributes})
    return route_id


_INSERT_NUMBER = sql(
    "INSERT INTO numbers (value, npa, nxx, state, rate_center, number_type, setup_cost_nd, monthly_cost_nd) "
    "VALUES (:value, :npa, :nxx, :state, :rate_center, :number_type, :setup_cost_nd, :monthly_cost_nd)"
)
_INVENTORY_EMPTY = sql("SELECT NOT EXISTS (SELECT 1 FROM numbers) AS empty")
_STATS = sql(
    "SELECT COUNT(*) AS total, SUM(CASE WHEN account_id IS NULL THEN 1 ELSE 0 END) AS available, "
    "COUNT(DISTINCT npa) AS areacodes FROM numbers"
)


# PostgreSQL plans the searches from table statistics, which autovacuum would gather only a while after a
# bulk insert; SQLite's searches name their index (INDEXED BY) and need none.
_REFRESH_STATISTICS = sql("SELECT 1", postgres="ANALYZE numbers, inventory_blocks")


async def refresh_statistics(connection: Connection) -> None:
    await connection.execute(_REFRESH_STATISTICS)


async def inventory_is_empty(connection: Connection) -> bool:
    return bool(await connection.fetchval(_INVENTORY_EMPTY))


@cache
def _existing_query(count: int) -> Any:
    return sql(f"SELECT value, account_id FROM numbers WHERE value IN ({placeholders('v', count)})")


async def existing_values(connection: Connection, values: Sequence[str]) -> dict[str, int | None]:
    """Which of these numbers exist already, and their owners (None: in the inventory)."""
    rows = await connection.fetch(_existing_query(len(values)), in_params("v", values))
    return {row["value"]: row["account_id"] for row in rows}


async def insert_inventory(connection: Connection, rows: Iterable[dict[str, Any]]) -> None:
    await connection.executemany(_INSERT_NUMBER, rows)


async def add_to_blocks(connection: Connection, counts: dict[tuple[str, str, int], int]) -> None:
    await connection.executemany(
        _BLOCK_ADD,
        [{"npa": npa, "nxx": nxx, "setup_cost_nd": cost, "count": n} for (npa, nxx, cost), n in counts.items()],
    )
    await inventory_changed(connection)


async def inventory_stats(connection: Connection) -> Row:
    row = await connection.fetchrow(_STATS)
    assert row is not None
    return row
