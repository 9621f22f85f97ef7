"""Rate limits shared by every process: GCRA, one row per bucket, one statement per check.

A bucket's `tat_us` is its theoretical arrival time. A request is allowed when
`max(tat, now) + interval - burst <= now`, and then moves tat forward by one interval.
"""

from __future__ import annotations

from telroute.errors import TooManyRequests
from telroute.kit.db import Connection, sql

_TAKE = sql(
    """INSERT INTO rate_limits (bucket, tat_us) VALUES (:bucket, :now + :interval)
       ON CONFLICT (bucket) DO UPDATE SET tat_us = MAX(rate_limits.tat_us, :now) + :interval
         WHERE MAX(rate_limits.tat_us, :now) + :interval - :burst <= :now
       RETURNING tat_us""",
    postgres="""INSERT INTO rate_limits (bucket, tat_us) VALUES (:bucket, CAST(:now AS BIGINT) + CAST(:interval AS BIGINT))
       ON CONFLICT (bucket) DO UPDATE
         SET tat_us = GREATEST(rate_limits.tat_us, CAST(:now AS BIGINT)) + CAST(:interval AS BIGINT)
         WHERE GREATEST(rate_limits.tat_us, CAST(:now AS BIGINT)) + CAST(:interval AS BIGINT)
               - CAST(:burst AS BIGINT) <= CAST(:now AS BIGINT)
       RETURNING tat_us""",
)
_TAT = sql("SELECT tat_us FROM rate_limits WHERE bucket = :bucket")


async def take(connection: Connection, bucket: str, *, per_second: int, now: int, what: str) -> None:
    """Allow one event in `bucket` at `per_second` (bursts of up to one second's worth) or raise 429."""
    interval = 1_000_000 // max(1, per_second)
    burst = interval * max(1, per_second)
    params = {"bucket": bucket, "now": now, "interval": interval, "burst": burst}
    if await connection.fetchrow(_TAKE, params) is not None:
        return
    tat = int(await connection.fetchval(_TAT, {"bucket": bucket}) or now)
    retry_after = max(0.001, (tat + interval - burst - now) / 1_000_000)
    raise TooManyRequests(
        f"rate limit exceeded: at most {per_second} {what} per second", retry_after=retry_after
    )
