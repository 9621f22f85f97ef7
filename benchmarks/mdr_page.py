"""MDR pages at depth on SQLite and PostgreSQL (issue 12): `GET /v2.1/messages` with a date range, p50 under
10 ms at 10 million MDRs, first page and offset 100,000, on both databases.

For each database: a fresh telroute with one account, given `--mdrs` MDRs over the year before now, written
straight into the database in time order with gapless positions (`seq`) and `message_positions` as
telroute's own inserts leave them, with receipts for the newest 200,000 and for 1% of the rest. Then, per
offset, one GET whose page is checked (its first item must be the generated MDR at that depth, and all its
items the newest-first order by time), and `--requests` sequential GETs over one kept-alive connection after
10 warm-up ones: `start_date` and `end_date` (dates) covering all the data, `limit=100`. Printed: p50/p99,
the CPU per request of the server (and of PostgreSQL's backends), what other work used meanwhile (the
machine is shared), and the page query alone with its plan (SQLite: run here with sqlite3; PostgreSQL:
EXPLAIN ANALYZE). Then both databases side by side.

SQLite: `telroute serve` as the README starts it (API and worker in one process) in a new data directory,
started once to migrate and make the account, stopped while one connection here writes the rows (1M-row
transactions, journal_mode=OFF and synchronous=OFF for the generation only, then ANALYZE), started again.
PostgreSQL: `serve --no-worker` on a throwaway database (dropped at the end), the rows made by
`benchmarks.postgres_scale.generate_mdrs`. Retention is off for both (the sandbox's 7 days would prune).

Run: .venv/bin/python -m benchmarks.mdr_page [--database sqlite|postgres|both] [--mdrs 10000000]
     [--requests 200] [--offsets 0,100000] [--keep] [--max-minutes 60]
Everything on 127.0.0.1; PostgreSQL on 127.0.0.1:5432, user postgres with trust authentication.
About 3.5 minutes for both at 10M on 2 cores, mostly data generation (SQLite 100 s, PostgreSQL 90 s).
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import json
import os
import shutil
import signal
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import closing, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType

import httpx

from benchmarks import postgres_scale
from benchmarks.postgres_scale import YEAR_US, log, run, sql
from benchmarks.support import RunningServer, machine, start_server
from telroute.kit.clock import parse_date
from telroute.messages.repository import PAGE

GOAL_MS = 10.0
LIMIT = 100
RECENT_RECEIPTS = 200_000  # the newest MDRs with receipts (as postgres_scale.generate_mdrs)
CHUNK = 1_000_000  # SQLite rows per transaction
SERVER_ENV = {"TELROUTE_INVENTORY_PER_BLOCK": "2", "TELROUTE_RETENTION_DAYS": "0", "TELROUTE_LOG_LEVEL": "warning"}
QUERY_RUNS = 50  # the SQLite page query alone, after 10 warm-up runs


class Overtime(BaseException):
    """The run took longer than --max-minutes (a BaseException: nothing on the way catches it)."""


# --- the figures ----------------------------------------------------------------------------------------


@dataclass
class Depth:
    offset: int
    p50: float
    p99: float
    items: int
    server_ms: float  # CPU per request
    postgres_ms: float
    other_cores: float  # what the rest of the machine used meanwhile
    capacity: float
    query_ms: float
    plan: list[str]
    check: str


@dataclass
class Result:
    database: str
    generated: str
    generation_seconds: float
    depths: list[Depth] = field(default_factory=list)


@dataclass
class Target:
    """What the measurement needs of one database: its server, the account, and three look-ups."""

    name: str
    server: RunningServer
    auth: tuple[str, str]
    total: int
    reference: Callable[[int, int, int], list[str]]  # public ids of a page, by time alone: (start, end, offset)
    generated_id: Callable[[int], str]  # public id of the n-th generated MDR (1 = oldest)
    page_query: Callable[[int, int, int], tuple[float, list[str]]]  # (ms, plan) of PAGE: (start, end, offset)


@dataclass(frozen=True)
class Window:
    """The date range of the GETs: whole days around the generated year, as a client would ask."""

    start_date: str
    end_date: str
    start_us: int
    end_us: int

    @classmethod
    def around(cls, newest_us: int) -> Window:
        first = (dt.datetime.fromtimestamp((newest_us - YEAR_US) / 1e6, dt.UTC) - dt.timedelta(days=1)).date()
        last = (dt.datetime.fromtimestamp(newest_us / 1e6, dt.UTC) + dt.timedelta(days=1)).date()
        return cls(str(first), str(last), parse_date(str(first)), parse_date(str(last)))


def measure(target: Target, window: Window, offsets: list[int], requests: int) -> list[Depth]:
    depths = []
    for offset in offsets:
        log(f"{target.name}: pages at offset {offset:,}")
        params: dict[str, str | int] = {
            "start_date": window.start_date,
            "end_date": window.end_date,
            "limit": LIMIT,
            "offset": offset,
        }
        check = check_page(target, window, params, offset)
        p50, p99, items, cpu = postgres_scale.timed_gets(target.server, target.auth, "/v2.1/messages", params, requests)
        query_ms, plan = target.page_query(window.start_us, window.end_us, offset)
        f = cpu.figures
        depths.append(
            Depth(
                offset,
                p50,
                p99,
                items,
                server_ms=1000 * f["ours"] / requests,
                postgres_ms=1000 * f["postgres"] / requests,
                other_cores=max(0.0, f["busy"] - f["ours"] - f["postgres"]) / f["wall"],
                capacity=f["capacity"] / f["wall"],
                query_ms=query_ms,
                plan=plan,
                check=check,
            )
        )
    return depths


def check_page(target: Target, window: Window, params: Mapping[str, str | int], offset: int) -> str:
    """'ok', or what is wrong with the page at `offset`: its first item must be the generated MDR
    `offset` places from the newest, and its items those of the same depth ordered by time alone."""
    with httpx.Client(base_url=target.server.url, auth=target.auth, timeout=60) as client:
        response = client.get("/v2.1/messages", params=params)
        response.raise_for_status()
    shown = [item["id"] for item in response.json()["data"]]
    expected = target.reference(window.start_us, window.end_us, offset)
    newest = target.total - offset
    problems = []
    if newest >= 1 and (not shown or shown[0] != target.generated_id(newest)):
        problems.append(f"first item {shown[:1]} is not generated MDR #{newest:,} ({target.generated_id(newest)})")
    if shown != expected:
        problems.append(f"{len(shown)} items differ from the {len(expected)} newest-first by time at that depth")
    if problems:
        return "FAILED: " + "; ".join(problems)
    return f"ok ({len(shown)} items; the first is generated MDR #{newest:,}, number {offset + 1:,} newest-first)"


def describe(result: Result, requests: int) -> list[str]:
    lines = [f"{result.database}: {result.generated}"]
    lines.append(
        f"  GET /v2.1/messages?start_date=..&end_date=..&limit={LIMIT}&offset=X, {requests} sequential requests "
        "each after 10 warm-up (one kept-alive connection), client-side latency:"
    )
    for d in result.depths:
        verdict = "met" if d.p50 < GOAL_MS else "NOT met"
        database_cpu = f", PostgreSQL {d.postgres_ms:.2f} ms" if result.database == "PostgreSQL" else ""
        lines.append(
            f"  offset {d.offset:>10,}: p50 {d.p50:.1f} ms, p99 {d.p99:.1f} ms (goal p50 < {GOAL_MS:.0f} ms: "
            f"{verdict}); {d.items} MDRs a page; the page query alone {d.query_ms:.3f} ms\n"
            f"      CPU per request: server {d.server_ms:.2f} ms{database_cpu}; meanwhile other work used "
            f"{d.other_cores:.2f} of {d.capacity:.0f} cores\n"
            f"      page check: {d.check}"
        )
    return lines


def side_by_side(results: list[Result], total: int) -> list[str]:
    by_offset: dict[int, list[str]] = {}
    for result in results:
        for d in result.depths:
            verdict = "met" if d.p50 < GOAL_MS else "NOT met"
            cell = f"p50 {d.p50:5.1f} ms, p99 {d.p99:5.1f} ms (query {d.query_ms:6.3f} ms) {verdict}"
            by_offset.setdefault(d.offset, []).append(f"{cell:<50}")
    header = "".join(f"{r.database:<50}" for r in results)
    lines = [
        f"side by side, {total:,} MDRs of one account, goal p50 < {GOAL_MS:.0f} ms:",
        f"  {'offset':>11}  {header}",
    ]
    lines += [f"  {offset:>11,}  {''.join(cells)}" for offset, cells in by_offset.items()]
    return lines


# --- SQLite ---------------------------------------------------------------------------------------------


def _word(multiplier: int, add: int) -> str:
    """32 pseudo-random bits of the row number `n` (a bijection when `add` is 0: the ids stay unique)."""
    return f"(((n + {add}) * {multiplier}) % 4294967296)"


def _word_py(n: int, multiplier: int, add: int) -> int:
    return ((n + add) * multiplier) % 4294967296


_ID_WORDS = ((2654435761, 0), (2246822519, 1), (3266489917, 2), (668265263, 3))
_REF_WORDS = ((374761393, 5), (2654435761, 7), (2246822519, 11), (3266489917, 13))


def sqlite_public_id(n: int) -> str:
    """What `_SQLITE_MDRS` gives the n-th MDR: 'mdr2-' and 32 hex digits, as telroute's uuid4 ids."""
    return "mdr2-" + "".join(f"{_word_py(n, m, a):08x}" for m, a in _ID_WORDS)


_HEX32 = "printf('%08x%08x%08x%08x', {})"
# The rows of postgres_scale.generate_mdrs, spelled for SQLite (no md5 or lpad): ids and bodies from
# multiplicative hashes, times strictly increasing with n (the jitter stays under a third of the step).
_SQLITE_MDRS = f"""
WITH RECURSIVE g(n) AS (SELECT :low UNION ALL SELECT n + 1 FROM g WHERE n < :high)
INSERT INTO messages (id, public_id, account_id, direction, from_number, to_number, body, is_mms, status,
  message_encoding, message_type, segments, amount_nd, dlr_callback, callback_url, carrier, carrier_message_id,
  parts_pending, error, api_version, seq, created_at_us, updated_at_us)
SELECT :base + n, 'mdr2-' || {_HEX32.format(", ".join(_word(m, a) for m, a in _ID_WORDS))}, :account,
       CASE WHEN n % 10 = 0 THEN 'inbound' ELSE 'outbound' END,
       CASE WHEN n % 10 = 0 THEN '1' || (201 + n % 780) || printf('%07d', n % 9999991)
            ELSE '1206555' || printf('%04d', n % 40) END,
       CASE WHEN n % 10 = 0 THEN '1206555' || printf('%04d', n % 40)
            ELSE '1' || (201 + n % 780) || printf('%07d', n % 9999991) END,
       'Your code is ' || (n % 1000000) || '. Reply STOP to opt out. Ref '
         || {_HEX32.format(", ".join(_word(m, a) for m, a in _REF_WORDS))},
       n % 50 = 0,
       CASE WHEN n % 10 = 0 THEN 'received' WHEN n % 97 = 0 THEN 'undelivered' ELSE 'delivered' END,
       0, 'longcode', CASE WHEN n % 20 = 0 THEN 2 ELSE 1 END,
       CASE WHEN n % 50 = 0 THEN 19500000 WHEN n % 20 = 0 THEN 8000000 ELSE 4000000 END,
       NULL, NULL, CASE WHEN n % 10 = 0 THEN NULL ELSE 'simulator' END, NULL, 0, NULL, '2.1', n,
       :start + n * :step + (n * 2246822519) % :jitter, :start + n * :step + 2000000
FROM g"""
_RECEIPT_VALUES = """m.id, l.level,
       CASE WHEN l.level = 1 THEN 'smsc submit' ELSE m.status END,
       CASE WHEN l.level = 1 THEN NULL WHEN m.status = 'delivered' THEN 1000 ELSE 3000 END,
       CASE WHEN l.level = 1 THEN 'Message has been sent' WHEN m.status = 'delivered'
            THEN 'Message delivered to handset' ELSE 'Message could not be delivered' END,
       m.created_at_us + l.level * 700000"""
_RECEIPTS = "INSERT INTO receipts (message_id, level, status, status_code, description, created_at_us)"
_LEVELS = "(SELECT 1 AS level UNION ALL SELECT 2) AS l"
# 1% of the older outbound MDRs (n % 100 = 1: n % 100 = 0 would all be inbound), by rowid; then the newest
_SQLITE_OLD_RECEIPTS = f"""
WITH RECURSIVE k(n) AS (SELECT 1 UNION ALL SELECT n + 100 FROM k WHERE n + 100 <= :total)
{_RECEIPTS} SELECT {_RECEIPT_VALUES}
FROM k JOIN messages AS m ON m.id = :base + k.n CROSS JOIN {_LEVELS}
WHERE m.direction = 'outbound' AND m.created_at_us < :recent ORDER BY m.id, l.level"""
_SQLITE_NEW_RECEIPTS = f"""
{_RECEIPTS} SELECT {_RECEIPT_VALUES}
FROM messages AS m CROSS JOIN {_LEVELS}
WHERE m.account_id = :account AND m.created_at_us >= :recent AND m.direction = 'outbound'
ORDER BY m.id, l.level"""
_SQLITE_POSITION = """INSERT INTO message_positions (account_id, last_seq, last_at_us)
SELECT :account, :total, created_at_us FROM messages WHERE id = :base + :total
ON CONFLICT (account_id) DO UPDATE SET last_seq = excluded.last_seq, last_at_us = excluded.last_at_us"""
_REFERENCE = """SELECT public_id FROM messages WHERE account_id = :account AND created_at_us >= :start
  AND created_at_us < :end ORDER BY created_at_us DESC LIMIT :limit OFFSET :offset"""


def generate_sqlite(path: Path, account_id: int, total: int, newest_us: int) -> tuple[str, float]:
    """`total` MDRs of one account over the year before `newest_us`, straight into the file (the server is
    stopped): the same rows, receipts and positions as `postgres_scale.generate_mdrs`. (summary, seconds)"""
    began = time.monotonic()
    connection = sqlite3.connect(path, isolation_level=None)
    try:
        for pragma in ("journal_mode=OFF", "synchronous=OFF", "cache_size=-1048576", "temp_store=MEMORY"):
            connection.execute(f"PRAGMA {pragma}").fetchall()
        existing = connection.execute("SELECT count(*) FROM messages WHERE account_id = ?", (account_id,)).fetchone()
        if existing[0]:
            raise RuntimeError("the account already has messages: positions would not be gapless")
        base = connection.execute("SELECT coalesce(max(id), 0) FROM messages").fetchone()[0]
        step = YEAR_US // total
        values = {
            "account": account_id,
            "base": base,
            "total": total,
            "start": newest_us - YEAR_US,
            "step": step,
            "jitter": max(step // 3, 1),
            "recent": newest_us - RECENT_RECEIPTS * step,
        }
        for low in range(1, total + 1, CHUNK):
            high = min(total, low + CHUNK - 1)
            connection.execute("BEGIN")
            connection.execute(_SQLITE_MDRS, {**values, "low": low, "high": high})
            connection.execute("COMMIT")
            log(f"SQLite: {high:,} MDRs written ({time.monotonic() - began:.0f} s)")
        rows = time.monotonic() - began
        connection.execute("BEGIN")
        connection.execute(_SQLITE_OLD_RECEIPTS, values)
        connection.execute(_SQLITE_NEW_RECEIPTS, values)
        connection.execute(_SQLITE_POSITION, values)
        connection.execute("COMMIT")
        receipts = time.monotonic() - began - rows
        page = page_params(account_id, values["start"] - 86_400_000_000, newest_us + 1, 0)
        plan_before = sqlite_plan(connection, page)
        analyze_started = time.monotonic()
        connection.execute("ANALYZE")
        analyze = time.monotonic() - analyze_started
        plan_after = sqlite_plan(connection, page)
        connection.execute("PRAGMA journal_mode=WAL").fetchall()  # as telroute opens it
        counts = connection.execute(
            "SELECT (SELECT count(*) FROM messages WHERE account_id = ?), (SELECT count(*) FROM receipts), "
            "(SELECT page_count * page_size FROM pragma_page_count(), pragma_page_size())",
            (account_id,),
        ).fetchone()
    finally:
        connection.close()
    seconds = time.monotonic() - began
    same = "the same plan" if plan_before == plan_after else "a DIFFERENT plan: " + " / ".join(plan_before)
    summary = (
        f"{counts[0]:,} MDRs on one account + {counts[1]:,} receipts ({counts[2] / 2**30:.2f} GiB file) generated "
        f"in {seconds:.0f} s (rows {rows:.0f} s, receipts and positions {receipts:.0f} s, ANALYZE {analyze:.0f} s); "
        f"before ANALYZE (telroute never runs it) the page query had {same}"
    )
    return summary, seconds


def page_params(account_id: int, start: int, end: int, offset: int) -> dict[str, int]:
    """PAGE's parameters as the server passes them (one row more than the page, to tell if there is a next)."""
    return {"account": account_id, "start": start, "end": end, "limit": LIMIT + 1, "offset": offset}


def sqlite_plan(connection: sqlite3.Connection, page: Mapping[str, int]) -> list[str]:
    """EXPLAIN QUERY PLAN of PAGE, one line per step, indented by depth."""
    depth: dict[int, int] = {0: -1}
    lines = []
    for node, parent, _, detail in connection.execute(f"EXPLAIN QUERY PLAN {PAGE.sqlite}", dict(page)):
        depth[node] = depth.get(parent, -1) + 1
        lines.append("  " * depth[node] + detail)
    return lines


def sqlite_page_query(path: Path, account_id: int) -> Callable[[int, int, int], tuple[float, list[str]]]:
    def timed(start: int, end: int, offset: int) -> tuple[float, list[str]]:
        """Median ms of PAGE run with sqlite3 here (the server's cache size), and its plan."""
        params = page_params(account_id, start, end, offset)
        connection = sqlite3.connect(path)
        try:
            connection.execute("PRAGMA cache_size=-16384").fetchall()
            samples = []
            for run_number in range(10 + QUERY_RUNS):
                started = time.perf_counter()
                rows = connection.execute(PAGE.sqlite, params).fetchall()
                if run_number >= 10:
                    samples.append((time.perf_counter() - started) * 1000)
            plan = sqlite_plan(connection, params)
        finally:
            connection.close()
        return statistics.median(samples), [*plan, f"({len(rows)} rows, median of {QUERY_RUNS} runs)"]

    return timed


def sqlite_reference(path: Path, account_id: int) -> Callable[[int, int, int], list[str]]:
    def reference(start: int, end: int, offset: int) -> list[str]:
        connection = sqlite3.connect(path)
        try:
            params = {"account": account_id, "start": start, "end": end, "limit": LIMIT, "offset": offset}
            return [row[0] for row in connection.execute(_REFERENCE, params)]
        finally:
            connection.close()

    return reference


def sqlite_run(options: argparse.Namespace, scratch: list[Path]) -> Result:
    data_dir = Path(tempfile.mkdtemp(prefix="telroute-mdr-sqlite-"))
    if not options.keep:
        scratch.append(data_dir)
    env = {**SERVER_ENV, "TELROUTE_DATA_DIR": str(data_dir)}
    path = data_dir / "telroute.db"
    log(f"SQLite: migrating a fresh data directory {data_dir}")
    with server_running(env, (), scratch) as server:
        keys = json.loads(server.cli("accounts", "create", "--name", "mdr-bench", "--json"))
    auth = (keys["access_key"], keys["secret_key"])
    with closing(sqlite3.connect(path)) as connection:
        account_id = int(connection.execute("SELECT id FROM accounts WHERE access_key = ?", (auth[0],)).fetchone()[0])
    newest_us = time.time_ns() // 1000
    log(f"SQLite: generating {options.mdrs:,} MDRs")
    generated, seconds = generate_sqlite(path, account_id, options.mdrs, newest_us)
    result = Result("SQLite", generated, seconds)
    log(f"SQLite: {generated}")
    with server_running(env, (), scratch) as server:
        target = Target(
            "SQLite",
            server,
            auth,
            options.mdrs,
            sqlite_reference(path, account_id),
            sqlite_public_id,
            sqlite_page_query(path, account_id),
        )
        result.depths = measure(target, Window.around(newest_us), options.offsets, options.requests)
    if options.keep:
        log(f"SQLite: kept {data_dir}")
    return result


# --- PostgreSQL -----------------------------------------------------------------------------------------


def postgres_public_id(n: int) -> str:
    """What postgres_scale.generate_mdrs gives the n-th MDR."""
    return "mdr2-" + hashlib.md5(f"bench-mdr-{n}".encode()).hexdigest()


@contextmanager
def postgres_database() -> Iterator[str]:
    """A throwaway database, dropped at the end whatever happens (its backends' CPU is counted)."""
    name = f"telroute_mdr_{os.getpid()}"
    postgres_scale.BENCH_DATABASE[:] = [name]
    run(sql(postgres_scale.ADMIN_URL, f"CREATE DATABASE {name}"))
    try:
        yield postgres_scale.ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    finally:
        run(sql(postgres_scale.ADMIN_URL, f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        log(f"PostgreSQL: dropped database {name}")


def postgres_page_query(url: str, account_id: int) -> Callable[[int, int, int], tuple[float, list[str]]]:
    def timed(start: int, end: int, offset: int) -> tuple[float, list[str]]:
        """Execution ms of PAGE in EXPLAIN (ANALYZE, BUFFERS), warm, and the plan's main lines."""
        args = PAGE.pg_args(page_params(account_id, start, end, offset))
        query_ms, plan = run(postgres_scale.explain(url, PAGE.pg_text, *args))
        return query_ms, postgres_scale.plan_summary(plan).split("\n        ")

    return timed


def postgres_reference(url: str, account_id: int) -> Callable[[int, int, int], list[str]]:
    def reference(start: int, end: int, offset: int) -> list[str]:
        statement = (
            "SELECT public_id FROM messages WHERE account_id = $1 AND created_at_us >= $2 AND created_at_us < $3 "
            "ORDER BY created_at_us DESC LIMIT $4 OFFSET $5"
        )
        return [row["public_id"] for row in run(sql(url, statement, account_id, start, end, LIMIT, offset))]

    return reference


def postgres_run(options: argparse.Namespace, scratch: list[Path]) -> Result:
    settings = run(sql(postgres_scale.ADMIN_URL, "SELECT version() AS v, current_setting('shared_buffers') AS s"))
    log(f"PostgreSQL: {settings[0]['v'].split(' on ')[0]}, shared_buffers {settings[0]['s']}")
    with postgres_database() as url:
        env = {**SERVER_ENV, "TELROUTE_DATABASE_URL": url}
        migrate_env = {k: v for k, v in os.environ.items() if not k.startswith("TELROUTE_")} | env
        log(f"PostgreSQL: migrating {postgres_scale.BENCH_DATABASE[0]}")
        command = [sys.executable, "-m", "telroute", "migrate", "--database-url", url]
        subprocess.run(command, env=migrate_env, check=True, capture_output=True, timeout=300)
        with server_running(env, ("--no-worker",), scratch) as server:
            account_id, auth = postgres_scale.bench_account(server, url, "mdr-bench")
            newest_us = time.time_ns() // 1000
            log(f"PostgreSQL: generating {options.mdrs:,} MDRs")
            began = time.monotonic()
            generated = postgres_scale.generate_mdrs(url, account_id, options.mdrs, newest_us)
            result = Result("PostgreSQL", generated, time.monotonic() - began)
            log(f"PostgreSQL: {generated}")
            target = Target(
                "PostgreSQL",
                server,
                auth,
                options.mdrs,
                postgres_reference(url, account_id),
                postgres_public_id,
                postgres_page_query(url, account_id),
            )
            result.depths = measure(target, Window.around(newest_us), options.offsets, options.requests)
    return result


# --- the run --------------------------------------------------------------------------------------------


@contextmanager
def server_running(env: dict[str, str], args: tuple[str, ...], scratch: list[Path]) -> Iterator[RunningServer]:
    server = start_server(env, args)
    scratch.append(server.data_dir)  # start_server's own directory: its log (ours is TELROUTE_DATA_DIR)
    try:
        yield server
    finally:
        postgres_scale.stop(server.process)


def parse_options() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database", choices=("sqlite", "postgres", "both"), default="both")
    parser.add_argument("--mdrs", type=int, default=10_000_000, help="MDRs of the one account")
    parser.add_argument("--requests", type=int, default=200, help="sequential GETs per offset")
    parser.add_argument("--offsets", default="0,100000", help="comma-separated")
    parser.add_argument("--keep", action="store_true", help="keep the SQLite data directory")
    parser.add_argument("--max-minutes", type=float, default=60, help="stop and clean up after this long")
    options = parser.parse_args()
    options.offsets = [int(part.replace("_", "")) for part in options.offsets.split(",") if part.strip()]
    if not 1000 <= options.mdrs <= 1_000_000_000:
        parser.error("--mdrs must be between 1,000 and 1,000,000,000")
    if options.requests < 1 or not options.offsets or any(not 0 <= o < options.mdrs for o in options.offsets):
        parser.error("--requests must be positive and every offset between 0 and --mdrs")
    return options


def _overtime(signum: int, frame: FrameType | None) -> None:
    raise Overtime


def main() -> None:
    options = parse_options()
    began = time.monotonic()
    signal.signal(signal.SIGALRM, _overtime)
    signal.alarm(int(options.max_minutes * 60))
    print(
        f"machine: {machine()}; load average at start {' '.join(f'{v:.2f}' for v in os.getloadavg())} "
        f"(1, 5, 15 min); {options.mdrs:,} MDRs; offsets {', '.join(f'{o:,}' for o in options.offsets)}",
        flush=True,
    )
    scratch: list[Path] = []
    results: list[Result] = []
    runs = {"sqlite": [sqlite_run], "postgres": [postgres_run], "both": [sqlite_run, postgres_run]}
    try:
        for database_run in runs[options.database]:
            result = database_run(options, scratch)
            results.append(result)
            print("\n".join(describe(result, options.requests)), flush=True)
            print(f"  load average after: {' '.join(f'{v:.2f}' for v in os.getloadavg())}", flush=True)
        print("\n".join(side_by_side(results, options.mdrs)), flush=True)
        print(f"whole run: {(time.monotonic() - began) / 60:.1f} min", flush=True)
        for result in results:
            for d in result.depths:
                plan = "\n        ".join(d.plan)
                print(f"\n{result.database}, the page query at offset {d.offset:,}:\n        {plan}", flush=True)
    except Overtime:
        print(f"stopped: longer than --max-minutes {options.max_minutes:g}", flush=True)
        raise SystemExit(2) from None
    finally:
        signal.alarm(0)
        for directory in scratch:
            shutil.rmtree(directory, ignore_errors=True)
    if any(not d.check.startswith("ok") for r in results for d in r.depths):
        raise SystemExit("a page check FAILED")


if __name__ == "__main__":
    main()
