"""Rate limits shared by every process: GCRA, one row per bucket.

A bucket's `tat_us` is its theoretical arrival time. A request is allowed when
`max(tat, now) + interval - burst <= now`, and then moves tat forward by one interval.
The clock is read after the bucket's row is locked: a request that waited behind others for the
row must not be judged by the moment it arrived (that refused requests under load).
"""

from __future__ import annotations

from collections.abc import Callable

from telroute.errors import TooManyRequests
from telroute.kit.db import Connection, sql

_ENSURE = sql("INSERT INTO rate_limits (bucket, tat_us) VALUES (:bucket, 0) ON CONFLICT (bucket) DO NOTHING")
_LOCK = sql(
    "SELECT tat_us FROM rate_limits WHERE bucket = :bucket",
    postgres="SELECT tat_us FROM rate_limits WHERE bucket = :bucket FOR UPDATE",
)
_SET = sql("UPDATE rate_limits SET tat_us = :tat WHERE bucket = :bucket")


async def take(
    connection: Connection, bucket: str, *, per_second: int, now: int | Callable[[], int], what: str
) -> None:
    """Allow one event in `bucket` at `per_second` (bursts of up to one second's worth) or raise 429."""
    interval = 1_000_000 // max(1, per_second)
    burst = interval * max(1, per_second)
    tat = await connection.fetchval(_LOCK, {"bucket": bucket})
    if tat is None:  # the bucket's first event: create its row (a rival may create it first), then lock it
        await connection.execute(_ENSURE, {"bucket": bucket})
        tat = await connection.fetchval(_LOCK, {"bucket": bucket})
    tat = int(tat)
    current = now() if callable(now) else now
    arrival = max(tat, current) + interval
    if arrival - burst > current:
        retry_after = max(0.001, (arrival - burst - current) / 1_000_000)
        raise TooManyRequests(f"rate limit exceeded: at most {per_second} {what} per second", retry_after=retry_after)
    await connection.execute(_SET, {"bucket": bucket, "tat": arrival})
