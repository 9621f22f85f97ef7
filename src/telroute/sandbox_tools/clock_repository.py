"""The SQL of the deployment's virtual clock: one row holding its offset from system time."""

from __future__ import annotations

from telroute.kit.db import Connection, notify, sql

CHANGES_CHANNEL = "telroute_clock"
_READ = sql("SELECT offset_us FROM virtual_clock WHERE id = 1")
_ADVANCE = sql(
    """INSERT INTO virtual_clock (id, offset_us, changed_at_us) VALUES (1, :delta, :now)
       ON CONFLICT (id) DO UPDATE SET offset_us = virtual_clock.offset_us + :delta, changed_at_us = :now"""
)


async def offset_us(connection: Connection) -> int:
    row = await connection.fetchrow(_READ)
    return 0 if row is None else int(row["offset_us"])


async def add_offset(connection: Connection, delta_us: int, *, now: int) -> None:
    """Move the offset; on PostgreSQL every process LISTENing on `CHANGES_CHANNEL` hears of it at commit."""
    await connection.execute(_ADVANCE, {"delta": delta_us, "now": now})
    await notify(connection, CHANGES_CHANNEL)
