"""Rate limits shared by every process: GCRA, one row per bucket.

A bucket's `tat_us` is its theoretical arrival time. A request is allowed when
`max(tat, now) + interval - burst <= now`, and then moves tat forward by one interval.

One statement decides and takes: an upsert whose update (and its condition) runs on the bucket's row once
locked. A request that waited behind others for the row must not be judged by the moment it arrived (that
refused requests under load), so with a live clock the time is the clock's reading plus how long the
statement waited (PostgreSQL's own measure, free of any skew between hosts); SQLite runs one statement at a
time and never waits inside one. A refused request reads the bucket once more, for its Retry-After.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any, NoReturn

from telroute.errors import TooManyRequests
from telroute.kit.db import Connection, sql

_WAITED_US = "CAST(EXTRACT(EPOCH FROM clock_timestamp() - statement_timestamp()) * 1000000 AS BIGINT)"


def _take_postgres(rows: str) -> str:
    """PostgreSQL's take as an upsert of the bucket row that `rows` gives (`bucket, tat_us`), returning the
    new `tat_us` when allowed and nothing when refused."""
    return f"""INSERT INTO rate_limits AS r (bucket, tat_us) {rows}
       ON CONFLICT (bucket) DO UPDATE
       SET tat_us = GREATEST(r.tat_us, :now + CAST(:live AS BIGINT) * {_WAITED_US}) + :interval
       WHERE GREATEST(r.tat_us, :now + :live * {_WAITED_US}) + :interval - CAST(:burst AS BIGINT)
         <= :now + :live * {_WAITED_US}
       RETURNING tat_us"""


def take_many_postgres(wanted: str) -> str:
    """CTEs of a PostgreSQL statement that takes up to `wanted` events (an SQL expression) from the bucket of
    `take_params`, as that many takes one after the other would: `rate` has one row, `allowed` (how many the
    bucket let through, the first ones), when any was; none when all were refused, and then nothing is written.
    `raced` is true when the bucket had no row and another statement created it meanwhile: nothing was taken,
    and the statement is to be run again. The bucket's row is locked only when something is wanted; a bucket
    without a row had nobody to wait for."""
    now = f"CAST(:now AS BIGINT) + CASE WHEN b.tat_us IS NULL THEN 0 ELSE CAST(:live AS BIGINT) * {_WAITED_US} END"
    interval, burst = "CAST(:interval AS BIGINT)", "CAST(:burst AS BIGINT)"
    return f"""bucket AS (SELECT tat_us FROM rate_limits WHERE bucket = :bucket AND {wanted} > 0 FOR UPDATE),
    clock AS (SELECT b.tat_us, {now} AS now_us FROM (SELECT (SELECT tat_us FROM bucket) AS tat_us OFFSET 0) b),
    admitted AS (SELECT tat_us IS NOT NULL AS found, GREATEST(COALESCE(tat_us, 0), now_us) AS start_us,
        LEAST({wanted}, GREATEST(0, (now_us + {burst} - GREATEST(COALESCE(tat_us, 0), now_us)) / {interval}))
          AS allowed
      FROM clock),
    rate_updated AS (UPDATE rate_limits r SET tat_us = a.start_us + a.allowed * {interval} FROM admitted a
      WHERE r.bucket = :bucket AND a.found AND a.allowed > 0 RETURNING a.allowed),
    rate_created AS (INSERT INTO rate_limits (bucket, tat_us)
      SELECT :bucket, start_us + allowed * {interval} FROM admitted WHERE NOT found AND allowed > 0
      ON CONFLICT (bucket) DO NOTHING RETURNING tat_us),
    rate AS (SELECT allowed FROM rate_updated UNION ALL SELECT a.allowed FROM rate_created, admitted a),
    raced AS (SELECT EXISTS (SELECT 1 FROM admitted WHERE NOT found AND allowed > 0)
      AND NOT EXISTS (SELECT 1 FROM rate_created) AS raced)"""


_TAKE = sql(
    """INSERT INTO rate_limits (bucket, tat_us) VALUES (:bucket, :now + :interval)
       ON CONFLICT (bucket) DO UPDATE SET tat_us = MAX(rate_limits.tat_us, :now) + :interval
       WHERE MAX(rate_limits.tat_us, :now) + :interval - :burst <= :now
       RETURNING tat_us""",
    postgres=_take_postgres("VALUES (:bucket, CAST(:now AS BIGINT) + CAST(:interval AS BIGINT))"),
)
_TAT = sql("SELECT tat_us FROM rate_limits WHERE bucket = :bucket")
_SET_TAT = sql(
    "INSERT INTO rate_limits (bucket, tat_us) VALUES (:bucket, :tat) ON CONFLICT (bucket) DO UPDATE SET tat_us = :tat"
)
_FORGET = sql("DELETE FROM rate_limits WHERE bucket = :bucket")


def take_params(bucket: str, *, per_second: int, now: int | Callable[[], int]) -> dict[str, Any]:
    """The parameters of a take (`:bucket, :now, :interval, :burst, :live`). `now`: a clock (read here; on
    PostgreSQL the statement adds any wait for the bucket's row), or a fixed moment."""
    interval = 1_000_000 // max(1, per_second)
    burst = interval * max(1, per_second)
    current = now() if callable(now) else now
    return {"bucket": bucket, "now": current, "interval": interval, "burst": burst, "live": int(callable(now))}


async def take(
    connection: Connection, bucket: str, *, per_second: int, now: int | Callable[[], int], what: str
) -> None:
    """Allow one event in `bucket` at `per_second` (bursts of up to one second's worth) or raise 429. `now`: a
    clock (read when the statement runs, counting any wait for the bucket's row), or a fixed moment."""
    params = take_params(bucket, per_second=per_second, now=now)
    if await connection.fetchval(_TAKE, params) is None:
        await refuse(connection, params, per_second=per_second, what=what)


async def take_many_sqlite(connection: Connection, params: Mapping[str, Any], wanted: int) -> int:
    """SQLite, in a transaction (which holds the database's write lock from its start): up to `wanted` events
    from the bucket of `params` (`take_params` at a fixed moment), as that many takes one after the other
    would; how many it allowed, the first ones. One take is the statement of `take`; more read the bucket and
    write it once."""
    if wanted == 1:
        return int(await connection.fetchval(_TAKE, params) is not None)
    if wanted <= 0:
        return 0
    tat = await connection.fetchval(_TAT, {"bucket": params["bucket"]})
    now, interval = params["now"], params["interval"]
    start = max(now, 0 if tat is None else int(tat))
    allowed = min(wanted, max(0, (now + params["burst"] - start) // interval))
    if allowed:
        await connection.execute(_SET_TAT, {"bucket": params["bucket"], "tat": start + allowed * interval})
    return int(allowed)


async def refuse(connection: Connection, params: Mapping[str, Any], *, per_second: int, what: str) -> NoReturn:
    """The 429 of a refused take (`params`: its `take_params`), with the Retry-After its bucket asks for."""
    tat = int(await connection.fetchval(_TAT, {"bucket": params["bucket"]}))
    current, interval, burst = params["now"], params["interval"], params["burst"]
    retry_after = max(0.001, (max(tat, current) + interval - burst - current) / 1_000_000)
    raise TooManyRequests(f"rate limit exceeded: at most {per_second} {what} per second", retry_after=retry_after)


async def forget(connection: Connection, buckets: Iterable[str]) -> None:
    """Start buckets afresh, with a whole second's burst. A bucket measures what was taken in intervals of the
    rate it was taken at, so after a change of rate it would hold the old rate's debt."""
    for bucket in buckets:
        await connection.execute(_FORGET, {"bucket": bucket})
