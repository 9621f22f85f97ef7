"""SQL of porting: which of some numbers this deployment's inventory already holds."""

from __future__ import annotations

from functools import cache

from telroute.kit.db import Connection, Query, in_params, placeholders, sql


@cache
def _served_query(count: int) -> Query:
    return sql(f"SELECT value FROM numbers WHERE value IN ({placeholders('n', count)})")


async def served(connection: Connection, values: list[str]) -> set[str]:
    """The values (normalized numbers) that are in the inventory, for sale or owned."""
    if not values:
        return set()
    rows = await connection.fetch(_served_query(len(values)), in_params("n", values))
    return {row["value"] for row in rows}
