"""Messaging throughput on SQLite with the simulator carrier, in two topologies:

- one process (`telroute serve`: API and worker together, the embedded default);
- two processes on the same SQLite file (`telroute serve --no-worker` + `telroute worker`).

For each: /healthz rate; accepted sends/s with p50/p99 accept latency (rate limits raised); and
end to end, messages/s from the first POST of a batch to the last level-2 DLR callback received by
a local receiver, with the server CPU spent per message (steady even when the machine is busy).
Run: .venv/bin/python -m benchmarks.messages_http [--seconds 8] [--database-url postgresql://...]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from dataclasses import dataclass

import httpx

from benchmarks.support import RunningServer, basic, free_port, local_get, machine, post_script, start_server, wrk


def cpu_seconds(pid: int) -> float:
    with open(f"/proc/{pid}/stat") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@dataclass
class Setup:
    server: RunningServer
    receiver: str
    authorization: str
    body: dict[str, str]

    def level2(self) -> int:
        return int(local_get(f"{self.receiver}/stats").json().get("unique_level2", 0))

    def wait_level2(self, expected: int, timeout: float = 600) -> float:
        deadline = time.monotonic() + timeout
        while self.level2() < expected and time.monotonic() < deadline:
            time.sleep(0.05)
        return time.monotonic()

    def send(self, seconds: int, connections: int = 32):  # type: ignore[no-untyped-def]
        script = post_script(self.body, self.authorization)
        return wrk(f"{self.server.url}/v2.1/messages", seconds=seconds, connections=connections, script=script)


def prepare(server: RunningServer, receiver: str) -> Setup:
    keys = json.loads(server.cli("accounts", "create", "--name", "bench", "--json"))
    key, secret = keys["access_key"], keys["secret_key"]
    server.cli("accounts", "set-limits", key, "--sms-per-second", "1000000", "--mms-per-second", "1000000")
    with httpx.Client(base_url=server.url, auth=(key, secret)) as client:
        found = client.get("/v2/numbers/available", params={"starts_with": "1206", "limit": 1}).json()
        number = found["data"][0]["id"]
        client.post(f"/v2/numbers/{number}").raise_for_status()
        client.put("/v2.1/messages/sms_dlr_callback", json={"callback_url": f"{receiver}/dlr"}).raise_for_status()
    body = {"to": "12065550100", "from": number, "body": "benchmark message"}
    return Setup(server, receiver, basic(key, secret), body)


def measure(setup: Setup, seconds: int, worker_pid: int | None) -> None:
    server_pid = setup.server.process.pid
    health = wrk(f"{setup.server.url}/healthz", seconds=seconds)
    print(f"  GET /healthz: {health.requests_per_second:,.0f} req/s (p50 {health.p50_ms:.2f} ms)")
    sends = setup.send(seconds)
    ratio = sends.requests_per_second / health.requests_per_second
    print(
        f"  POST /v2.1/messages accepted: {sends.requests_per_second:,.0f}/s, p50 {sends.p50_ms:.1f} ms, "
        f"p99 {sends.p99_ms:.1f} ms, non-2xx {sends.non_2xx}; {ratio:.2f} of /healthz"
    )
    setup.wait_level2(sends.requests - sends.non_2xx)
    before = setup.level2()
    cpu_before = [cpu_seconds(pid) for pid in (server_pid, worker_pid) if pid]
    started = time.monotonic()
    batch = setup.send(max(1, seconds // 2), connections=16)
    finished = setup.wait_level2(before + batch.requests - batch.non_2xx)
    delivered = setup.level2() - before
    cpu = sum(cpu_seconds(pid) for pid in (server_pid, worker_pid) if pid) - sum(cpu_before)
    print(
        f"  end to end (POST -> level-2 DLR received): {delivered / (finished - started):,.0f} messages/s "
        f"over {delivered:,} messages; server CPU {1e6 * cpu / max(1, delivered):,.0f} us per message"
    )
    print(f"  server RSS: {setup.server.rss_mb():.0f} MB")


def run(topology: str, env: dict[str, str], seconds: int) -> None:
    receiver_port = free_port()
    receiver_process = subprocess.Popen([sys.executable, "-m", "benchmarks.callback_counter", str(receiver_port)])
    split = topology == "two processes"
    server = start_server(env, args=("--no-worker",) if split else ())
    worker = subprocess.Popen([sys.executable, "-m", "telroute", "worker"], env=server.env) if split else None
    try:
        time.sleep(0.5)
        print(f"{topology}:")
        measure(prepare(server, f"http://127.0.0.1:{receiver_port}"), seconds, worker.pid if worker else None)
    finally:
        if worker is not None:
            worker.terminate()
            worker.wait()
        server.stop()
        receiver_process.terminate()
        receiver_process.wait()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--database-url")
    parser.add_argument("--seconds", type=int, default=8)
    options = parser.parse_args()
    env = {"TELROUTE_INVENTORY_PER_BLOCK": "2", "TELROUTE_SIMULATOR_RECEIPT_DELAY": "0.2"}
    if options.database_url:
        env["TELROUTE_DATABASE_URL"] = options.database_url
    print(f"machine: {machine()}; database: {'PostgreSQL' if options.database_url else 'SQLite'}")
    for topology in ("one process", "two processes"):
        run(topology, env, options.seconds)


if __name__ == "__main__":
    main()
