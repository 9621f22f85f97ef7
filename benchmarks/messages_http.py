"""Messaging throughput on one process (API + worker), SQLite by default, the simulator carrier.

Prints: /healthz rate; accepted sends/s with p50/p99 accept latency (rate limits raised); and
end-to-end messages/s from POST to the level-2 DLR callback received by a local receiver.
Run: .venv/bin/python benchmarks/messages_http.py [--database-url postgresql://...] [--messages N]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time

import httpx

from benchmarks.support import basic, free_port, machine, post_script, start_server, wrk


def prepare(server_url: str, cli, receiver: str) -> tuple[str, str, str]:  # type: ignore[no-untyped-def]
    keys = json.loads(cli("accounts", "create", "--name", "bench", "--json"))
    key, secret = keys["access_key"], keys["secret_key"]
    cli("accounts", "set-limits", key, "--sms-per-second", "1000000", "--mms-per-second", "1000000")
    with httpx.Client(base_url=server_url, auth=(key, secret)) as client:
        number = client.get("/v2/numbers/available", params={"starts_with": "1206", "limit": 1}).json()["data"][0]["id"]
        client.post(f"/v2/numbers/{number}").raise_for_status()
        client.put("/v2.1/messages/sms_dlr_callback", json={"callback_url": f"{receiver}/dlr"}).raise_for_status()
    return key, secret, number


def wait_for_level2(receiver: str, expected: int, timeout: float) -> tuple[int, float]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        seen = int(httpx.get(f"{receiver}/stats").json().get("unique_level2", 0))
        if seen >= expected:
            return seen, time.monotonic()
        time.sleep(0.05)
    return int(httpx.get(f"{receiver}/stats").json().get("unique_level2", 0)), time.monotonic()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--database-url")
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--messages", type=int, default=5000)
    options = parser.parse_args()
    env = {"TELROUTE_INVENTORY_PER_BLOCK": "2", "TELROUTE_SIMULATOR_RECEIPT_DELAY": "0.2"}
    if options.database_url:
        env["TELROUTE_DATABASE_URL"] = options.database_url
    receiver_port = free_port()
    receiver_process = subprocess.Popen([sys.executable, "-m", "benchmarks.callback_counter", str(receiver_port)])
    receiver = f"http://127.0.0.1:{receiver_port}"
    server = start_server(env)
    try:
        time.sleep(0.5)
        key, secret, number = prepare(server.url, server.cli, receiver)
        body = {"to": "12065550100", "from": number, "body": "benchmark message"}
        health = wrk(f"{server.url}/healthz", seconds=options.seconds)
        sends = wrk(f"{server.url}/v2.1/messages", seconds=options.seconds, script=post_script(body, basic(key, secret)))
        accepted = sends.requests - sends.non_2xx
        started_drain = time.monotonic()
        seen, drained = wait_for_level2(receiver, accepted, timeout=600)
        # End to end: a fixed batch, timed from the first POST to the last level-2 DLR.
        before = seen
        started = time.monotonic()
        batch = wrk(f"{server.url}/v2.1/messages", seconds=max(1, options.messages // 2000), connections=16,
                    script=post_script(body, basic(key, secret)))
        batch_accepted = batch.requests - batch.non_2xx
        total_seen, finished = wait_for_level2(receiver, before + batch_accepted, timeout=600)
        e2e = (total_seen - before) / (finished - started)
        print(f"machine: {machine()}; database: {'PostgreSQL' if options.database_url else 'SQLite'}")
        print(f"GET /healthz: {health.requests_per_second:,.0f} req/s (p50 {health.p50_ms:.2f} ms, p99 {health.p99_ms:.2f} ms)")
        print(f"POST /v2.1/messages accepted: {sends.requests_per_second:,.0f}/s "
              f"(p50 {sends.p50_ms:.2f} ms, p99 {sends.p99_ms:.2f} ms, non-2xx {sends.non_2xx}); "
              f"{sends.requests_per_second / health.requests_per_second:.2f} of /healthz")
        print(f"  backlog of {accepted:,} messages drained to level-2 DLRs {drained - started_drain:.1f} s after sending stopped")
        print(f"end to end (POST -> level-2 DLR received): {e2e:,.0f} messages/s over {total_seen - before:,} messages "
              f"(all delivered: {total_seen - before >= batch_accepted})")
        print(f"server RSS: {server.rss_mb():.0f} MB")
    finally:
        server.stop()
        receiver_process.terminate()
        receiver_process.wait()


if __name__ == "__main__":
    main()
