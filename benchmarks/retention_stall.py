"""Does retention stall the API? A sandbox server on SQLite (API and worker in one process) is given
50,000 messages older than its retention (1 day), each with two receipts; while its worker prunes them in
batches, two clients call GET /healthz and an authenticated GET /v2.1/messages (a page of another
account's MDRs) one request after another, and their latencies are compared with the same load once
pruning is over. Prints p50/p99/max per endpoint and phase, and how long pruning took.

    .venv/bin/python -m benchmarks.retention_stall [--messages 50000] [--batch 500] [--pause 0.05]
"""

from __future__ import annotations

import argparse
import json
import sqlite3
import statistics
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from benchmarks.support import RunningServer, basic, machine, start_server

DAY_US = 86_400_000_000
_MESSAGES = """
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < :count)
INSERT INTO messages (public_id, account_id, direction, from_number, to_number, body, is_mms, status,
    message_encoding, message_type, segments, amount_nd, api_version, seq, created_at_us, updated_at_us)
SELECT 'mdr2-old' || i, :account, 'outbound', '12065550100', '13125550123', 'an old message ' || i, 0,
    'delivered', 0, 'longcode', 1, 4000000, '2.1', i, :old + i, :old + i
FROM n"""
_RECEIPTS = """INSERT INTO receipts (message_id, level, status, status_code, description, created_at_us)
SELECT id, level, 'delivered', 0, 'old', created_at_us FROM messages, (SELECT 1 AS level UNION ALL SELECT 2)
WHERE account_id = :account"""
_POSITION = """INSERT INTO message_positions (account_id, last_seq, last_at_us) VALUES (:account, :count, :last)
ON CONFLICT (account_id) DO UPDATE SET last_seq = :count, last_at_us = :last"""


@dataclass
class Latencies:
    during: list[float] = field(default_factory=list)
    after: list[float] = field(default_factory=list)


def _seed(server: RunningServer, count: int) -> int:
    """`count` messages of a new account, all two days old, with their receipts; the account's id."""
    keys = json.loads(server.cli("accounts", "create", "--name", "pruned", "--json"))
    database = sqlite3.connect(server.data_dir / "telroute.db", timeout=60)
    with database:
        account = database.execute("SELECT id FROM accounts WHERE access_key = ?", (keys["access_key"],)).fetchone()[0]
        old = (time.time_ns() // 1000) - 2 * DAY_US
        params = {"count": count, "account": account, "old": old, "last": old + count}
        database.execute(_MESSAGES, params)
        database.execute(_RECEIPTS, params)
        database.execute(_POSITION, params)
    database.close()
    return int(account)


def _left(server: RunningServer, account: int) -> int:
    database = sqlite3.connect(server.data_dir / "telroute.db", timeout=60)
    try:
        return int(database.execute("SELECT COUNT(*) FROM messages WHERE account_id = ?", (account,)).fetchone()[0])
    finally:
        database.close()


def _load(
    url: str, headers: dict[str, str], latencies: Latencies, pruning: threading.Event, stop: threading.Event
) -> None:
    with httpx.Client(headers=headers, timeout=30) as client:
        while not stop.is_set():
            phase = latencies.during if pruning.is_set() else latencies.after  # by when the request started
            started = time.perf_counter()
            response = client.get(url)
            elapsed = (time.perf_counter() - started) * 1000
            assert response.status_code == 200, response.text
            phase.append(elapsed)


def _summary(values: list[float]) -> str:
    if not values:
        return "no requests"
    ordered = sorted(values)
    p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]
    median, worst = statistics.median(ordered), ordered[-1]
    return f"{len(values):6d} requests  p50 {median:6.1f} ms  p99 {p99:6.1f} ms  max {worst:6.1f} ms"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=50_000)
    parser.add_argument("--batch", type=int, default=500)
    parser.add_argument("--pause", type=float, default=0.05)
    options = parser.parse_args()
    env = {
        "TELROUTE_RETENTION_DAYS": "1",
        "TELROUTE_RETENTION_INTERVAL": "1",
        "TELROUTE_RETENTION_BATCH": str(options.batch),
        "TELROUTE_RETENTION_PAUSE": str(options.pause),
        "TELROUTE_LOG_LEVEL": "warning",
        "TELROUTE_INVENTORY_PER_BLOCK": "2",
    }
    server = start_server(env)
    try:
        demo = json.loads(Path(server.data_dir / "demo-account.json").read_text())
        auth = {"Authorization": basic(demo["access_key"], demo["secret_key"])}
        pruning, stop = threading.Event(), threading.Event()
        endpoints = {
            "GET /healthz": (f"{server.url}/healthz", {}, Latencies()),
            "GET /v2.1/messages (authenticated)": (
                f"{server.url}/v2.1/messages?start_date=2000-01-01&limit=10",
                auth,
                Latencies(),
            ),
        }
        account = _seed(server, options.messages)
        pruning.set()
        threads = [
            threading.Thread(target=_load, args=(url, headers, latencies, pruning, stop), daemon=True)
            for url, headers, latencies in endpoints.values()
        ]
        started = time.monotonic()
        for thread in threads:
            thread.start()
        while _left(server, account) > 0:
            time.sleep(0.1)
        took = time.monotonic() - started
        pruning.clear()
        time.sleep(max(3.0, took / 2))
        stop.set()
        for thread in threads:
            thread.join()
    finally:
        server.stop()
    print(f"retention stall: {options.messages} old messages (2 receipts each) on SQLite, {machine()}")
    print(f"batch {options.batch}, pause {options.pause} s: all pruned {took:.1f} s after they were written")
    for name, (_, _, latencies) in endpoints.items():
        print(f"{name}\n  while pruning: {_summary(latencies.during)}\n  after:         {_summary(latencies.after)}")


if __name__ == "__main__":
    main()
