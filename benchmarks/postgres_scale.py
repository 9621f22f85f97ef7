"""PostgreSQL scale-out benchmark (issue 5): sends and deliveries across processes, MDR pages and the number
search over 10 million rows each. One run, everything on 127.0.0.1, a fresh database dropped at the end.

1. Accepted sends/s (POST /v2.1/messages, p50/p99) with 1 and with 2 API processes (`serve --no-worker`),
   wrk against each process at once for the 2-process case (rates summed). All from one account with raised
   limits, then again with each request from one of 32 accounts, to tell the per-account rate-limit row
   lock apart from the CPU limit. CPU used by the servers, this database's PostgreSQL backends, wrk and
   everything else (the machine may be shared) is read from /proc, with the CPU cost per accepted send;
   PostgreSQL's wait events are sampled. Together they say what limits the scaling.
2. End-to-end messages/s with 1 and with 2 workers (`telroute worker`): a fixed batch is sent with the
   workers stopped (the backlog of step 1 is dropped first), then the workers start and the clock runs
   from the first job claimed until the local DLR receiver has a level-2 callback for every message.
3. GET /v2.1/messages?start_date=...&limit=100&offset=X at offsets 0, 10,000 and 100,000 over one account
   with 10 million MDRs (generated in SQL, spread over a year, receipts for a sample), sequential requests.
4. GET /v2/numbers/available?starts_with=P over 10 million inventory numbers (generated in SQL over the
   33k blocks of the seeded inventory), sequential requests.
Each query gets EXPLAIN (ANALYZE, BUFFERS), printed after the figures. About 8-10 minutes on 2 cores,
mostly data generation.

Run: .venv/bin/python -m benchmarks.postgres_scale [--seconds 10] [--batch 3000] [--mdrs 10000000]
     [--numbers 10000000] [--requests 200] [--parts sends,mdrs,search] [--keep-database]
Needs PostgreSQL on 127.0.0.1:5432, user postgres with trust authentication, and wrk (apt-get installs it).
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Coroutine, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import asyncpg
import httpx

from benchmarks.support import (
    RunningServer,
    WrkResult,
    basic,
    free_port,
    local_get,
    machine,
    post_script,
    start_server,
    wrk,
)
from telroute.messages import repository as messages_repository

ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/postgres"
YEAR_US = 365 * 86_400 * 1_000_000
T = TypeVar("T")
NOTES: list[str] = []  # EXPLAIN findings and other details, printed after the figures


def note(text: str) -> None:
    NOTES.append(text)


def log(text: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {text}", file=sys.stderr, flush=True)


# --- database ------------------------------------------------------------------------------------------


def run(coro: Coroutine[Any, Any, T]) -> T:
    return asyncio.run(coro)


async def sql(url: str, statement: str, *args: object) -> list[asyncpg.Record]:
    connection = await asyncpg.connect(url)
    try:
        if args or statement.lstrip().upper().startswith(("SELECT", "EXPLAIN", "WITH", "SHOW")):
            return list(await connection.fetch(statement, *args))
        await connection.execute(statement)
        return []
    finally:
        await connection.close()


async def bulk(url: str, statements: list[str]) -> float:
    """Run statements in one session tuned for bulk loading; seconds taken."""
    started = time.monotonic()
    connection = await asyncpg.connect(url, command_timeout=None)
    try:
        # replica role skips the foreign-key triggers: the generated rows are consistent by construction
        await connection.execute(
            "SET session_replication_role = replica; SET synchronous_commit = off; "
            "SET maintenance_work_mem = '1GB'; SET work_mem = '64MB'"
        )
        for statement in statements:
            await connection.execute(statement)
    finally:
        await connection.close()
    return time.monotonic() - started


async def parallel(url: str, sessions: list[list[str]]) -> float:
    started = time.monotonic()
    await asyncio.gather(*(bulk(url, statements) for statements in sessions))
    return time.monotonic() - started


async def secondary_indexes(url: str, table: str) -> tuple[list[str], list[str]]:
    """(drop statements, create statements) of a table's indexes and unique constraints but its primary key,
    exactly as the migration made them, so that a bulk load can build them once at the end."""
    connection = await asyncpg.connect(url)
    try:
        constraints = await connection.fetch(
            "SELECT conname, pg_get_constraintdef(oid) AS def FROM pg_constraint "
            "WHERE conrelid = $1::regclass AND contype = 'u'",
            table,
        )
        owned = {row["conname"] for row in constraints}
        indexes = await connection.fetch(
            "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = $1 AND indexname NOT LIKE '%_pkey'", table
        )
    finally:
        await connection.close()
    drops = [f"ALTER TABLE {table} DROP CONSTRAINT {row['conname']}" for row in constraints]
    creates = [f"ALTER TABLE {table} ADD CONSTRAINT {row['conname']} {row['def']}" for row in constraints]
    drops += [f"DROP INDEX {row['indexname']}" for row in indexes if row["indexname"] not in owned]
    creates += [row["indexdef"] for row in indexes if row["indexname"] not in owned]
    return drops, creates


# --- CPU accounting -------------------------------------------------------------------------------------

TICK = os.sysconf("SC_CLK_TCK")


def _proc_cpu(pid: int) -> float:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (FileNotFoundError, ProcessLookupError):
        return 0.0
    return (int(fields[11]) + int(fields[12])) / TICK


BENCH_DATABASE: list[str] = []  # the database of this run


def postgres_server_cpu() -> float:
    """CPU of every PostgreSQL process on this machine: the backends of every database, the WAL writer,
    the checkpointer. For a run that is the only work of the local server (`benchmarks/run`)."""
    total = 0.0
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if (entry / "comm").read_text().strip() == "postgres":
                    total += _proc_cpu(int(entry.name))
            except (FileNotFoundError, ProcessLookupError, PermissionError):
                continue
    return total


def _postgres_cpu() -> float:
    """CPU of the PostgreSQL backends connected to this run's database (the server is shared with other
    work; its WAL writer and checkpointer, shared by every database, are not counted)."""
    total = 0.0
    marker = f" {BENCH_DATABASE[0]} ".encode() if BENCH_DATABASE else b"\0"
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if (entry / "comm").read_text().strip() == "postgres" and marker in (entry / "cmdline").read_bytes():
                    total += _proc_cpu(int(entry.name))
            except (FileNotFoundError, ProcessLookupError, PermissionError):
                continue
    return total


def _machine_cpu() -> tuple[float, float]:
    """(busy, total) CPU seconds of the whole machine so far."""
    values = [int(v) for v in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    idle = values[3] + values[4]
    return (sum(values[:8]) - idle) / TICK, sum(values[:8]) / TICK


def _children_cpu() -> float:
    """CPU of the child processes already waited for: the wrk runs."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


RECEIVER_PID: list[int] = []  # the DLR receiver, counted apart
TEMP_DIRS: list[Path] = []  # data directories of our processes, removed at the end


@dataclass
class CpuWindow:
    """CPU seconds used during a window by our servers/workers, PostgreSQL, wrk, the DLR receiver, and
    whatever else runs on the machine (the machine is shared: that share is printed as "other")."""

    pids: list[int]
    started: float = 0.0
    before: dict[str, float] = field(default_factory=dict)
    figures: dict[str, float] = field(default_factory=dict)

    def _now(self) -> dict[str, float]:
        busy, total = _machine_cpu()
        return {
            "ours": sum(_proc_cpu(p) for p in self.pids),
            "postgres": _postgres_cpu(),
            "wrk": _children_cpu(),
            "receiver": sum(_proc_cpu(p) for p in RECEIVER_PID),
            "busy": busy,
            "capacity": total,
            "wall": time.monotonic(),
        }

    def __enter__(self) -> CpuWindow:
        self.before = self._now()
        return self

    def __exit__(self, *exc: object) -> None:
        after = self._now()
        self.figures = {key: after[key] - self.before[key] for key in after}

    def describe(self, ours: str) -> str:
        f = self.figures
        wall = f["wall"]
        other = max(0.0, f["busy"] - f["ours"] - f["postgres"] - f["wrk"] - f["receiver"])
        parts = [f"{ours} {f['ours'] / wall:.2f}", f"PostgreSQL {f['postgres'] / wall:.2f}"]
        if f["wrk"]:
            parts.append(f"wrk {f['wrk'] / wall:.2f}")
        if f["receiver"]:
            parts.append(f"DLR receiver {f['receiver'] / wall:.2f}")
        parts.append(f"everything else on the machine {other / wall:.2f}")
        return (
            f"CPU over {wall:.1f} s: machine {100 * f['busy'] / f['capacity']:.0f}% busy of "
            f"{f['capacity'] / wall:.0f} cores; cores used: {', '.join(parts)}"
        )


class WaitSampler:
    """Samples pg_stat_activity of one database every 50 ms: what active backends wait on."""

    def __init__(self, url: str, database: str) -> None:
        self.url, self.database = url, database
        self.counts: Counter[str] = Counter()
        self.samples = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=lambda: asyncio.run(self._loop()), daemon=True)

    async def _loop(self) -> None:
        connection = await asyncpg.connect(self.url)
        try:
            while not self._stop.is_set():
                rows = await connection.fetch(
                    "SELECT coalesce(wait_event_type || ':' || wait_event, 'CPU') AS w, count(*) AS n "
                    "FROM pg_stat_activity WHERE datname = $1 AND state = 'active' AND pid <> pg_backend_pid() "
                    "GROUP BY 1",
                    self.database,
                )
                self.samples += 1
                for row in rows:
                    self.counts[row["w"]] += row["n"]
                await asyncio.sleep(0.05)
        finally:
            await connection.close()

    def __enter__(self) -> WaitSampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def describe(self) -> str:
        if not self.samples:
            return "no samples"
        top = ", ".join(f"{name} {count / self.samples:.1f}" for name, count in self.counts.most_common(5))
        return f"active PostgreSQL backends on average, by wait: {top or 'none'}"


# --- processes ------------------------------------------------------------------------------------------


def start_worker(env: dict[str, str]) -> subprocess.Popen[bytes]:
    data_dir = Path(tempfile.mkdtemp(prefix="telroute-bench-worker-"))
    TEMP_DIRS.append(data_dir)
    log_file = (data_dir / "worker.log").open("wb")
    return subprocess.Popen(
        [sys.executable, "-m", "telroute", "worker"],
        env={**env, "TELROUTE_DATA_DIR": str(data_dir)},
        stdout=log_file,
        stderr=subprocess.STDOUT,
    )


def stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


# --- measurements ---------------------------------------------------------------------------------------


@dataclass
class Account:
    key: str
    secret: str
    number: str
    id: int = 0


def prepare_account(server: RunningServer, name: str, receiver: str, url: str) -> Account:
    keys = json.loads(server.cli("accounts", "create", "--name", name, "--json"))
    key, secret = keys["access_key"], keys["secret_key"]
    server.cli("accounts", "set-limits", key, "--sms-per-second", "1000000", "--mms-per-second", "1000000")
    with httpx.Client(base_url=server.url, auth=(key, secret), timeout=30) as client:
        found = client.get("/v2/numbers/available", params={"starts_with": "1206", "limit": 50}).json()["data"]
        for candidate in found:  # another account may have bought the first ones
            if client.post(f"/v2/numbers/{candidate['id']}").status_code < 300:
                number = candidate["id"]
                break
        else:
            raise RuntimeError("no number could be bought")
        client.put("/v2.1/messages/sms_dlr_callback", json={"callback_url": f"{receiver}/dlr"}).raise_for_status()
    account_id = run(sql(url, "SELECT id FROM accounts WHERE access_key = $1", key))[0]["id"]
    return Account(key, secret, number, account_id)


async def _many_accounts(url: str, count: int) -> list[tuple[str, str]]:
    """`count` accounts with raised limits, made in-process (a CLI call each would take a second)."""
    from telroute.accounts import service as accounts_service
    from telroute.kit.db import connect

    database = await connect(url)
    keys = []
    try:
        for index in range(count):
            async with database.transaction() as connection:
                made = await accounts_service.create(connection, f"bench-many-{index}", now=time.time_ns() // 1000)
                await accounts_service.set_limits(connection, made.access_key, 1_000_000, 1_000_000)
            keys.append((made.access_key, made.secret_key))
    finally:
        await database.close()
    return keys


def many_accounts(server: RunningServer, url: str, count: int, searcher: Account) -> list[Account]:
    """`count` accounts, each owning a number of its own to send from."""
    accounts = []
    with httpx.Client(base_url=server.url, timeout=30) as client:
        free = iter(
            row["id"]
            for row in client.get(
                "/v2/numbers/available",
                params={"starts_with": "1206", "limit": 200},
                auth=(searcher.key, searcher.secret),
            ).json()["data"]
        )
        for key, secret in run(_many_accounts(url, count)):
            for candidate in free:
                if client.post(f"/v2/numbers/{candidate}", auth=(key, secret)).status_code < 300:
                    accounts.append(Account(key, secret, candidate))
                    break
    if len(accounts) < count:
        raise RuntimeError("not enough numbers to buy for the accounts")
    return accounts


def rotating_script(accounts: list[Account]) -> str:
    """A wrk script whose every request comes from a randomly chosen account of `accounts`."""
    auths = ", ".join(json.dumps(basic(a.key, a.secret)) for a in accounts)
    bodies = ", ".join(
        json.dumps(json.dumps({"to": "12065550100", "from": a.number, "body": "benchmark message"})) for a in accounts
    )
    return (
        "local counter = 1\n"
        'function setup(thread) thread:set("seed", counter) counter = counter + 1 end\n'
        "function init(args) math.randomseed(seed * 7919 + os.time()) end\n"
        f"local auths = {{{auths}}}\n"
        f"local bodies = {{{bodies}}}\n"
        "function request()\n"
        "  local n = math.random(#auths)\n"
        '  return wrk.format("POST", nil, {["Content-Type"] = "application/json", '
        '["Authorization"] = auths[n]}, bodies[n])\n'
        "end\n"
    )


def send_script(account: Account) -> str:
    return post_script(
        {"to": "12065550100", "from": account.number, "body": "benchmark message"}, basic(account.key, account.secret)
    )


def parallel_wrk(targets: list[tuple[str, str]], seconds: int, connections: int) -> list[WrkResult]:
    with ThreadPoolExecutor(len(targets)) as pool:
        futures = [
            pool.submit(wrk, f"{base}/v2.1/messages", seconds=seconds, connections=connections, script=script)
            for base, script in targets
        ]
        return [future.result() for future in futures]


def send_costs(results: list[WrkResult], window: CpuWindow) -> str:
    """CPU per accepted send, and what two otherwise idle cores would allow at that cost."""
    accepted = sum(r.requests - r.non_2xx for r in results)
    f = window.figures
    api, pg, load = (1000 * f[key] / accepted for key in ("ours", "postgres", "wrk"))
    return (
        f"CPU per accepted send: API {api:.2f} ms, PostgreSQL {pg:.2f} ms, wrk {load:.2f} ms; at that cost "
        f"2 otherwise idle cores would allow about {2000 / (api + pg + load):,.0f}/s (CPU-bound ceiling)"
    )


def describe_sends(results: list[WrkResult]) -> str:
    rate = sum(r.requests_per_second for r in results)
    errors = sum(r.non_2xx for r in results)
    parts = "; ".join(f"p50 {r.p50_ms:.1f} ms, p99 {r.p99_ms:.1f} ms" for r in results)
    return f"{rate:,.0f} accepted/s ({parts}; non-2xx {errors})"


async def send_batch(targets: list[tuple[str, Account]], count: int, concurrency: int = 32) -> int:
    """POST exactly `count` messages, spread over the API processes; the number accepted."""
    accepted = 0
    queue = iter(range(count))
    clients = [httpx.AsyncClient(base_url=base, auth=(a.key, a.secret), timeout=60) for base, a in targets]

    async def sender(slot: int) -> None:
        nonlocal accepted
        client, account = clients[slot % len(clients)], targets[slot % len(targets)][1]
        for _ in queue:
            response = await client.post(
                "/v2.1/messages", json={"to": "12065550100", "from": account.number, "body": "end to end benchmark"}
            )
            accepted += response.status_code == 202

    try:
        await asyncio.gather(*(sender(slot) for slot in range(concurrency)))
    finally:
        for client in clients:
            await client.aclose()
    return accepted


def receiver_stats(receiver: str) -> dict[str, int]:
    return {k: int(v) for k, v in local_get(f"{receiver}/stats").json().items()}


def end_to_end(
    workers: int, env: dict[str, str], targets: list[tuple[str, Account]], receiver: str, batch: int, url: str
) -> str:
    before = receiver_stats(receiver)
    accepted = run(send_batch(targets, batch))
    queued = run(sql(url, "SELECT count(*) AS n FROM jobs"))[0]["n"]
    expected = before.get("unique_level2", 0) + accepted
    processes: list[subprocess.Popen[bytes]] = []
    first_claim = None
    try:
        launched = time.monotonic()
        processes = [start_worker(env) for _ in range(workers)]
        window = CpuWindow([p.pid for p in processes])
        with window:
            deadline = launched + 300
            seen = before.get("unique_level2", 0)
            while time.monotonic() < deadline:
                if (
                    first_claim is None
                    and run(
                        sql(
                            url,
                            "SELECT EXISTS (SELECT 1 FROM jobs WHERE locked_by IS NOT NULL) "
                            "OR (SELECT count(*) FROM jobs) <> $1 AS started",
                            queued,
                        )
                    )[0]["started"]
                ):
                    first_claim = time.monotonic()
                seen = receiver_stats(receiver).get("unique_level2", 0)
                if seen >= expected:
                    break
                time.sleep(0.02)
            finished = time.monotonic()
    finally:
        for process in processes:
            stop(process)
    delivered = seen - before.get("unique_level2", 0)
    total = finished - launched
    working = finished - (first_claim or launched)
    return (
        f"{delivered / working:,.0f} messages/s from the first job claimed to the last level-2 DLR "
        f"({delivered:,}/{accepted:,} in {working:.1f} s); {delivered / total:,.0f} messages/s counting the "
        f"workers' start-up ({total - working:.1f} s)\n      {window.describe('workers')}; per message: "
        f"workers {1000 * window.figures['ours'] / delivered:.1f} ms CPU, "
        f"PostgreSQL {1000 * window.figures['postgres'] / delivered:.1f} ms CPU"
    )


def percentiles(samples: list[float]) -> tuple[float, float]:
    ordered = sorted(samples)
    return statistics.median(ordered), ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]


def timed_gets(
    server: RunningServer, auth: tuple[str, str], path: str, params: Mapping[str, str | int], count: int
) -> tuple[float, float, int, CpuWindow]:
    """Sequential GETs on one keep-alive connection: (p50 ms, p99 ms, items in the last response, the CPU
    used meanwhile, to tell the cost of a request apart from waiting for a shared core)."""
    samples = []
    with httpx.Client(base_url=server.url, auth=auth, timeout=60) as client:
        for _ in range(10):  # warm the connection and the caches
            client.get(path, params=params).raise_for_status()
        with CpuWindow([server.process.pid]) as window:
            for _ in range(count):
                started = time.perf_counter()
                response = client.get(path, params=params)
                samples.append((time.perf_counter() - started) * 1000)
                response.raise_for_status()
        items = len(response.json()["data"])
    p50, p99 = percentiles(samples)
    return p50, p99, items, window


def cpu_per_request(window: CpuWindow, count: int) -> str:
    f = window.figures
    other = max(0.0, f["busy"] - f["ours"] - f["postgres"])
    return (
        f"CPU per request: server {1000 * f['ours'] / count:.1f} ms, PostgreSQL {1000 * f['postgres'] / count:.1f} ms; "
        f"meanwhile other work used {other / f['wall']:.2f} of {f['capacity'] / f['wall']:.0f} cores"
    )


async def explain(url: str, statement: str, *args: object) -> tuple[float, str]:
    """(execution ms, plan text) of EXPLAIN (ANALYZE, BUFFERS), run twice: the second, warm one counts."""
    connection = await asyncpg.connect(url)
    try:
        rows = []
        for _ in range(2):
            rows = await connection.fetch(f"EXPLAIN (ANALYZE, BUFFERS) {statement}", *args)
    finally:
        await connection.close()
    plan = "\n".join(row[0] for row in rows)
    execution = next(float(line.split(":")[1].split()[0]) for line in plan.splitlines() if "Execution Time" in line)
    return execution, plan


# --- data generation ------------------------------------------------------------------------------------


def generate_mdrs(url: str, account_id: int, total: int, end_us: int) -> str:
    """`total` MDRs of one account over the year before `end_us`, in time order; receipts for the newest
    200,000 (every page measured renders them) and for 1% of the rest."""
    start_us = end_us - YEAR_US
    step = YEAR_US // total
    jitter = max(step // 3, 1)  # keeps time order equal to position order, as telroute's inserts do
    drops, creates = run(secondary_indexes(url, "messages"))

    def insert(low: int, high: int) -> str:
        return f"""
        INSERT INTO messages (public_id, account_id, direction, from_number, to_number, body, is_mms, status,
          message_encoding, message_type, segments, amount_nd, dlr_callback, callback_url, carrier,
          carrier_message_id, parts_pending, error, seq, created_at_us, updated_at_us)
        SELECT 'mdr2-' || md5('bench-mdr-' || g), {account_id},
               CASE WHEN g % 10 = 0 THEN 'inbound' ELSE 'outbound' END,
               CASE WHEN g % 10 = 0 THEN '1' || (201 + g % 780) || lpad((g % 9999991)::text, 7, '0')
                    ELSE '1206555' || lpad((g % 40)::text, 4, '0') END,
               CASE WHEN g % 10 = 0 THEN '1206555' || lpad((g % 40)::text, 4, '0')
                    ELSE '1' || (201 + g % 780) || lpad((g % 9999991)::text, 7, '0') END,
               'Your code is ' || (g % 1000000) || '. Reply STOP to opt out. Ref ' || md5(g::text),
               g % 50 = 0,
               CASE WHEN g % 10 = 0 THEN 'received' WHEN g % 97 = 0 THEN 'undelivered' ELSE 'delivered' END,
               0, 'longcode', CASE WHEN g % 20 = 0 THEN 2 ELSE 1 END,
               CASE WHEN g % 50 = 0 THEN 19500000 WHEN g % 20 = 0 THEN 8000000 ELSE 4000000 END,
               NULL, NULL, CASE WHEN g % 10 = 0 THEN NULL ELSE 'simulator' END, NULL, 0, NULL, g,
               {start_us} + g::bigint * {step} + (hashint4(g) % {jitter}), {start_us} + g::bigint * {step} + 2000000
        FROM generate_series({low}, {high}) AS g"""

    half = total // 2
    seconds = run(parallel(url, [drops]))
    seconds += run(parallel(url, [[insert(1, half)], [insert(half + 1, total)]]))
    load = seconds
    # the unique constraint alone in one session; the time index in the other
    unique = [c for c in creates if "UNIQUE" in c]
    others = [c for c in creates if "UNIQUE" not in c]
    seconds += run(parallel(url, [unique, others]))
    counter = f"""INSERT INTO message_positions (account_id, last_seq, last_at_us)
        SELECT {account_id}, {total}, max(created_at_us) FROM messages WHERE account_id = {account_id}"""
    seconds += run(parallel(url, [[counter]]))
    recent = end_us - 200_000 * step
    receipts = f"""
        INSERT INTO receipts (message_id, level, status, status_code, description, created_at_us)
        SELECT m.id, l.level,
               CASE WHEN l.level = 1 THEN 'smsc submit' ELSE m.status END,
               CASE WHEN l.level = 1 THEN NULL WHEN m.status = 'delivered' THEN 1000 ELSE 3000 END,
               CASE WHEN l.level = 1 THEN 'Message has been sent' WHEN m.status = 'delivered'
                    THEN 'Message delivered to handset' ELSE 'Message could not be delivered' END,
               m.created_at_us + l.level * 700000
        FROM messages AS m CROSS JOIN (VALUES (1), (2)) AS l(level)
        WHERE m.account_id = {account_id} AND m.direction = 'outbound'
          AND (m.created_at_us >= {recent} OR m.id % 100 = 0)"""
    seconds += run(parallel(url, [[receipts]]))
    vacuum_started = time.monotonic()
    run(sql(url, "VACUUM ANALYZE messages"))
    run(sql(url, "VACUUM ANALYZE receipts"))
    vacuum = time.monotonic() - vacuum_started
    counts = run(
        sql(
            url,
            "SELECT (SELECT count(*) FROM messages WHERE account_id = $1) AS m, "
            "(SELECT count(*) FROM receipts) AS r, pg_size_pretty(pg_total_relation_size('messages')) AS s",
            account_id,
        )
    )[0]
    return (
        f"{counts['m']:,} MDRs on one account + {counts['r']:,} receipts ({counts['s']} with indexes) "
        f"generated in {seconds:.0f} s (rows {load:.0f} s), VACUUM ANALYZE {vacuum:.0f} s"
    )


def generate_numbers(url: str, total: int) -> str:
    """`total` available numbers over the blocks (npa, nxx, state, rate center, type) that the sandbox seeded,
    plus 1-212-555, the same number per block, in `value` order; inventory_blocks counted from them."""
    run(
        sql(
            url,
            """CREATE TABLE bench_blocks AS
        SELECT DISTINCT npa, nxx, state, rate_center, number_type FROM numbers
        UNION SELECT '212', '555', 'ny', 'newyork', 'standard'""",
        )
    )
    blocks = run(sql(url, "SELECT count(*) AS n FROM bench_blocks"))[0]["n"]
    per_block = -(-total // blocks)
    stride = 10_000 // per_block
    from telroute.numbers import model  # the price tiers, as the seeded inventory has them

    standard, memorable, premium, tollfree = model.STANDARD, model.MEMORABLE, model.PREMIUM, model.TOLLFREE
    drops, creates = run(secondary_indexes(url, "numbers"))
    run(parallel(url, [["DELETE FROM numbers WHERE account_id IS NULL", "DELETE FROM inventory_blocks", *drops]]))

    def insert(condition: str) -> str:
        line = f"(k * {stride} + abs(hashtext(b.npa || b.nxx)) % {stride})"
        value = f"'1' || b.npa || b.nxx || lpad({line}::text, 4, '0')"
        tier = (
            f"CASE WHEN {line} = 0 THEN 'p' WHEN k % 40 = 7 THEN 'm' "
            "WHEN b.number_type = 'tollfree' THEN 't' ELSE 's' END"
        )
        return f"""
        INSERT INTO numbers (value, npa, nxx, state, rate_center, number_type, setup_cost_nd, monthly_cost_nd)
        SELECT value, npa, nxx, state, rate_center, number_type,
               CASE tier WHEN 'p' THEN {premium.setup_cost_nd} WHEN 'm' THEN {memorable.setup_cost_nd}
                         WHEN 't' THEN {tollfree.setup_cost_nd} ELSE {standard.setup_cost_nd} END,
               CASE tier WHEN 'p' THEN {premium.monthly_cost_nd} WHEN 'm' THEN {memorable.monthly_cost_nd}
                         WHEN 't' THEN {tollfree.monthly_cost_nd} ELSE {standard.monthly_cost_nd} END
        FROM (SELECT b.*, k, {value} AS value, {tier} AS tier
              FROM (SELECT * FROM bench_blocks WHERE {condition} ORDER BY npa, nxx) AS b
              CROSS JOIN LATERAL generate_series(0, {per_block - 1}) AS k) AS generated
        WHERE value NOT IN (SELECT value FROM numbers)"""

    seconds = run(parallel(url, [[insert("npa < '6'")], [insert("npa >= '6'")]]))
    load = seconds
    # two sessions building indexes, the longest builds apart
    creates.sort(key=lambda c: ("rate_center" in c, "UNIQUE" in c), reverse=True)
    seconds += run(parallel(url, [creates[0::2], creates[1::2]]))
    seconds += run(
        parallel(
            url,
            [
                [
                    "INSERT INTO inventory_blocks (npa, nxx, setup_cost_nd, available) "
                    "SELECT npa, nxx, setup_cost_nd, count(*) FILTER (WHERE account_id IS NULL) "
                    "FROM numbers GROUP BY 1, 2, 3",
                    "DROP TABLE bench_blocks",
                ]
            ],
        )
    )
    vacuum_started = time.monotonic()
    run(sql(url, "VACUUM ANALYZE numbers"))
    run(sql(url, "VACUUM ANALYZE inventory_blocks"))
    vacuum = time.monotonic() - vacuum_started
    counts = run(
        sql(
            url,
            "SELECT count(*) FILTER (WHERE account_id IS NULL) AS a, count(DISTINCT (npa, nxx)) AS b, "
            "pg_size_pretty(pg_total_relation_size('numbers')) AS s FROM numbers",
        )
    )[0]
    return (
        f"{counts['a']:,} available numbers in {counts['b']:,} blocks of {per_block} ({counts['s']} with indexes) "
        f"generated in {seconds:.0f} s (rows {load:.0f} s), VACUUM ANALYZE {vacuum:.0f} s"
    )


# --- the run --------------------------------------------------------------------------------------------


SEARCH_SQL = """SELECT value, state, rate_center, number_type, setup_cost_nd, monthly_cost_nd FROM numbers
  WHERE account_id IS NULL AND value >= $1 AND value < $2 ORDER BY value LIMIT $3 OFFSET $4"""


def plan_summary(plan: str) -> str:
    keep = [
        line.strip()
        for line in plan.splitlines()
        if any(
            word in line for word in ("Scan", "Limit", "Buffers", "Join", "Nested", "Sort", "Execution", "Rows Removed")
        )
    ]
    return "\n        ".join(keep)


PARTS = ("sends", "mdrs", "search")


def parse_options() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=int, default=10, help="length of each wrk run")
    parser.add_argument("--connections", type=int, default=32, help="wrk connections in all, split over processes")
    parser.add_argument("--batch", type=int, default=3000, help="messages per end-to-end batch")
    parser.add_argument("--mdrs", type=int, default=10_000_000)
    parser.add_argument("--numbers", type=int, default=10_000_000)
    parser.add_argument("--requests", type=int, default=200, help="sequential GETs per figure")
    parser.add_argument(
        "--parts", default=",".join(PARTS), help=f"comma-separated, of {', '.join(PARTS)} (sends includes end to end)"
    )
    parser.add_argument("--keep-database", action="store_true", help="leave the database for inspection")
    return parser.parse_args()


def sends_and_deliveries(
    servers: list[RunningServer], env: dict[str, str], url: str, database: str, options: argparse.Namespace
) -> list[str]:
    """Parts 1 and 2; stops the second API process afterwards."""
    receiver_port = free_port()
    receiver_process = subprocess.Popen([sys.executable, "-m", "benchmarks.callback_counter", str(receiver_port)])
    RECEIVER_PID.append(receiver_process.pid)
    receiver = f"http://127.0.0.1:{receiver_port}"
    try:
        first = prepare_account(servers[0], "bench", receiver, url)
        figures = accepted_sends(servers, first, url, database, options)
        # the backlog of the send runs is dropped (its messages stay queued, unseen)
        run(sql(url, "DELETE FROM jobs"))
        targets = [(servers[0].url, first), (servers[1].url, first)]
        figures.append(
            f"end to end, a batch of {options.batch:,} sent through both API processes with the workers "
            f"stopped, then the workers started (simulator receipt delay 0.1 s):"
        )
        for workers in (1, 2):
            log(f"end to end: {workers} worker(s)")
            figures.append(
                f"  {workers} worker{'s' if workers > 1 else ''}: "
                f"{end_to_end(workers, env, targets, receiver, options.batch, url)}"
            )
        return figures
    finally:
        stop(receiver_process)


def accepted_sends(
    servers: list[RunningServer], first: Account, url: str, database: str, options: argparse.Namespace
) -> list[str]:
    log("sends: 1 API process")
    seconds, connections = options.seconds, options.connections
    with CpuWindow([servers[0].process.pid]) as cpu1, WaitSampler(url, database) as waits1:
        one = parallel_wrk([(servers[0].url, send_script(first))], seconds, connections)
    log("sends: 2 API processes, one account")
    pids = [s.process.pid for s in servers]
    with CpuWindow(pids) as cpu2, WaitSampler(url, database) as waits2:
        two = parallel_wrk([(s.url, send_script(first)) for s in servers], seconds, connections // 2)
    spread = many_accounts(servers[0], url, connections, first)
    log(f"sends: 1 API process, {len(spread)} accounts")
    with CpuWindow([servers[0].process.pid]) as cpu3, WaitSampler(url, database) as waits3:
        one_many = parallel_wrk([(servers[0].url, rotating_script(spread))], seconds, connections)
    log(f"sends: 2 API processes, {len(spread)} accounts")
    with CpuWindow(pids) as cpu4, WaitSampler(url, database) as waits4:
        two_many = parallel_wrk([(s.url, rotating_script(spread)) for s in servers], seconds, connections // 2)
    rate1 = sum(r.requests_per_second for r in one)
    rate1_many = sum(r.requests_per_second for r in one_many)
    return [
        f"POST /v2.1/messages, {connections} connections in all, {seconds} s each; all from one account:",
        f"  1 API process:                 {describe_sends(one)}",
        f"      {cpu1.describe('API process')}\n      {send_costs(one, cpu1)}\n      {waits1.describe()}",
        f"  2 API processes:               {describe_sends(two)}  = "
        f"{sum(r.requests_per_second for r in two) / rate1:.2f}x one process",
        f"      {cpu2.describe('API processes')}\n      {send_costs(two, cpu2)}\n      {waits2.describe()}",
        f"  each request from one of {len(spread)} accounts at random (no single rate-limit row to queue on):",
        f"  1 API process:                 {describe_sends(one_many)}",
        f"      {cpu3.describe('API process')}\n      {send_costs(one_many, cpu3)}\n      {waits3.describe()}",
        f"  2 API processes:               {describe_sends(two_many)}  = "
        f"{sum(r.requests_per_second for r in two_many) / rate1_many:.2f}x one process",
        f"      {cpu4.describe('API processes')}\n      {send_costs(two_many, cpu4)}\n      {waits4.describe()}",
    ]


def bench_account(server: RunningServer, url: str, name: str) -> tuple[int, tuple[str, str]]:
    keys = json.loads(server.cli("accounts", "create", "--name", name, "--json"))
    auth = (keys["access_key"], keys["secret_key"])
    account_id = run(sql(url, "SELECT id FROM accounts WHERE access_key = $1", auth[0]))[0]["id"]
    return account_id, auth


def mdr_pages(server: RunningServer, url: str, options: argparse.Namespace) -> list[str]:
    """Part 3: MDR pages over 10 million MDRs of one account."""
    account_id, auth = bench_account(server, url, "mdr-bench")
    end_us = time.time_ns() // 1000
    log(f"generating {options.mdrs:,} MDRs")
    figures = [generate_mdrs(url, account_id, options.mdrs, end_us)]
    start_date = (dt.datetime.fromtimestamp((end_us - YEAR_US) / 1e6, dt.UTC) - dt.timedelta(days=1)).date()
    start_us = int(dt.datetime.combine(start_date, dt.time(), dt.UTC).timestamp() * 1_000_000)
    figures.append(
        f"GET /v2.1/messages?start_date={start_date}&limit=100&offset=X, {options.requests} sequential "
        "requests each (after 10 warm-up), client-side latency:"
    )
    for offset in (0, 10_000, 100_000, options.mdrs - 100):
        log(f"MDR page at offset {offset:,}")
        params = {"start_date": str(start_date), "limit": 100, "offset": offset}
        p50, p99, items, window = timed_gets(server, auth, "/v2.1/messages", params, options.requests)
        page = {"account": account_id, "start": start_us, "end": 2**62, "limit": 101, "offset": offset}
        query = messages_repository.PAGE
        query_ms, plan = run(explain(url, query.pg_text, *query.pg_args(page)))
        figures.append(
            f"  offset {offset:>9,}: p50 {p50:.1f} ms, p99 {p99:.1f} ms ({items} MDRs a page; "
            f"the page query alone {query_ms:.2f} ms in EXPLAIN ANALYZE)\n"
            f"      {cpu_per_request(window, options.requests)}"
        )
        note(f"MDR page query at offset {offset:,} (EXPLAIN ANALYZE, BUFFERS; warm):\n        {plan_summary(plan)}")
    return figures


def number_search(server: RunningServer, url: str, options: argparse.Namespace) -> list[str]:
    """Part 4: number search over 10 million inventory numbers."""
    _, auth = bench_account(server, url, "search-bench")
    log(f"generating {options.numbers:,} inventory numbers")
    figures = [generate_numbers(url, options.numbers)]
    figures.append(
        f"GET /v2/numbers/available?starts_with=P (limit 10, the default), {options.requests} sequential "
        "requests each (after 10 warm-up), client-side latency:"
    )
    for prefix in ("1206", "1212555", "1800"):
        log(f"number search starts_with={prefix}")
        params = {"starts_with": prefix}
        p50, p99, items, window = timed_gets(server, auth, "/v2/numbers/available", params, options.requests)
        high = prefix[:-1] + chr(ord(prefix[-1]) + 1)
        query_ms, plan = run(explain(url, SEARCH_SQL, prefix, high, 10, 0))
        available = run(
            sql(
                url,
                "SELECT count(*) AS n FROM numbers WHERE account_id IS NULL AND value >= $1 AND value < $2",
                prefix,
                high,
            )
        )[0]["n"]
        figures.append(
            f"  {prefix:<8} p50 {p50:.1f} ms, p99 {p99:.1f} ms ({items} numbers shown of {available:,} "
            f"matching; the query alone {query_ms:.2f} ms)\n      {cpu_per_request(window, options.requests)}"
        )
        note(f"number search starts_with={prefix} (EXPLAIN ANALYZE, BUFFERS; warm):\n        {plan_summary(plan)}")
    figures.append(timed_purchases(server, auth, options.requests))
    return figures


def timed_purchases(server: RunningServer, auth: tuple[str, str], count: int) -> str:
    """POST /v2/numbers/{number} for `count` numbers found by a search, one after another."""
    samples = []
    with httpx.Client(base_url=server.url, auth=auth, timeout=60) as client:
        found = client.get("/v2/numbers/available", params={"starts_with": "1425", "limit": count})
        numbers = [item["id"] for item in found.json()["data"]]
        with CpuWindow([server.process.pid]) as window:
            for number in numbers:
                started = time.perf_counter()
                client.post(f"/v2/numbers/{number}").raise_for_status()
                samples.append((time.perf_counter() - started) * 1000)
    p50, p99 = percentiles(samples)
    return (
        f"POST /v2/numbers/{{number}} over the same inventory, {len(samples)} sequential purchases: "
        f"p50 {p50:.1f} ms, p99 {p99:.1f} ms\n      {cpu_per_request(window, len(samples))}"
    )


def main() -> None:
    options = parse_options()
    parts = set(options.parts.split(","))
    began = time.monotonic()
    database = f"telroute_bench_{os.getpid()}"
    BENCH_DATABASE.append(database)
    url = f"postgresql://postgres@127.0.0.1:5432/{database}"
    print(
        f"machine: {machine()}; PostgreSQL {run(sql(ADMIN_URL, 'SHOW server_version'))[0][0]} on "
        f"127.0.0.1, shared_buffers {run(sql(ADMIN_URL, 'SHOW shared_buffers'))[0][0]}; "
        f"load average at start {os.getloadavg()[0]:.2f}",
        flush=True,
    )
    run(sql(ADMIN_URL, f"CREATE DATABASE {database}"))
    env = {k: v for k, v in os.environ.items() if not k.startswith("TELROUTE_")}
    env.update(
        {"TELROUTE_DATABASE_URL": url, "TELROUTE_INVENTORY_PER_BLOCK": "2", "TELROUTE_SIMULATOR_RECEIPT_DELAY": "0.1"}
    )
    servers: list[RunningServer] = []
    try:
        log(f"database {database}: migrating")
        subprocess.run(
            [sys.executable, "-m", "telroute", "migrate", "--database-url", url],
            env=env,
            check=True,
            capture_output=True,
        )
        for _ in range(2 if "sends" in parts else 1):  # the first seeds the inventory
            servers.append(start_server(env, ("--no-worker",)))
            TEMP_DIRS.append(servers[-1].data_dir)
        if "sends" in parts:
            print("\n".join(sends_and_deliveries(servers, env, url, database, options)), flush=True)
            servers.pop().stop()
        if "mdrs" in parts:
            print("\n".join(mdr_pages(servers[0], url, options)), flush=True)
        if "search" in parts:
            print("\n".join(number_search(servers[0], url, options)), flush=True)
        print(f"whole run: {(time.monotonic() - began) / 60:.1f} min", flush=True)
        print("\nEXPLAIN findings:\n" + "\n".join(NOTES), flush=True)
    finally:
        for server in servers:
            server.stop()
        for directory in TEMP_DIRS:
            shutil.rmtree(directory, ignore_errors=True)
        if options.keep_database:
            log(f"kept database {database}")
        else:
            run(sql(ADMIN_URL, f"DROP DATABASE IF EXISTS {database} WITH (FORCE)"))
            log(f"dropped database {database}")


if __name__ == "__main__":
    main()
