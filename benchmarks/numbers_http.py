"""Requests/s and p50/p99 latency of the numbers search, the area-code list and /healthz, one server, one run.

Starts `telroute serve` (sandbox profile, the full default inventory, a fresh temporary data dir, SQLite),
then drives each endpoint with `wrk` (installed with apt-get when missing) over 127.0.0.1 only, for a fixed
number of seconds at a fixed concurrency. The endpoints take turns for several rounds, so that a change in
the machine's load hits all three alike; each figure is the median of the rounds. Prints the figures, the
ratios to /healthz and the server's RSS. The inventory is seeded by a first start; the figures come from
a second start on the same data dir (as every later start runs). It also reports the server's CPU time per request (from
/proc/PID/stat): on a machine shared with other work, requests/s follow the other work's load, while the
CPU cost of a request, and so the ratio of two endpoints' costs, stays put.

Usage: .venv/bin/python benchmarks/numbers_http.py [--seconds 5] [--rounds 3] [--connections 32] [--threads 1]
"""

from __future__ import annotations

import argparse
import base64
import dataclasses
import json
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import httpx

ENDPOINTS = {
    "search": "/v2/numbers/available?starts_with=1206&limit=10",
    "areacodes": "/v2/numbers/available/areacodes?limit=10",
    "healthz": "/healthz",
}
_UNITS = {"us": 1e-3, "ms": 1.0, "s": 1e3}


@dataclass(frozen=True)
class Figures:
    requests_per_second: float
    p50_ms: float
    p99_ms: float
    errors: int
    requests: int = 0
    server_cpu_us: float = 0.0  # server CPU time per request: steady even when other work shares the machine


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def ensure_wrk() -> str:
    found = shutil.which("wrk")
    if found is None:
        subprocess.run(["apt-get", "install", "-y", "-qq", "wrk"], check=True, capture_output=True)
        found = shutil.which("wrk")
    if found is None:
        raise SystemExit("wrk is not installed and apt-get could not install it")
    return found


class Server:
    def __init__(self, data_dir: Path) -> None:
        self.data_dir = data_dir
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        env = {key: value for key, value in os.environ.items() if not key.startswith("TELROUTE_")}
        env["TELROUTE_DATA_DIR"] = str(data_dir)
        self._log = (data_dir / "server.log").open("ab")
        command = [sys.executable, "-m", "telroute", "serve", "--port", str(self.port)]
        self.process = subprocess.Popen(command, env=env, stdout=self._log, stderr=subprocess.STDOUT)

    def wait_ready(self, timeout: float = 300.0) -> float:
        started = time.monotonic()
        while time.monotonic() - started < timeout:
            if self.process.poll() is not None:
                raise SystemExit(f"server exited:\n{(self.data_dir / 'server.log').read_text()}")
            try:
                if httpx.get(f"{self.url}/healthz", timeout=1.0).status_code == 200:
                    return time.monotonic() - started
            except httpx.TransportError:
                time.sleep(0.1)
        raise SystemExit("server not ready in time")

    def authorization(self) -> str:
        demo = json.loads((self.data_dir / "demo-account.json").read_text())
        token = base64.b64encode(f"{demo['access_key']}:{demo['secret_key']}".encode()).decode()
        return f"Basic {token}"

    def cpu_seconds(self) -> float:
        """User + system CPU time of the server process so far."""
        fields = Path(f"/proc/{self.process.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def memory_mb(self, field: str = "VmRSS") -> float:
        status = Path(f"/proc/{self.process.pid}/status").read_text()
        match = re.search(rf"{field}:\s+(\d+) kB", status)
        return int(match.group(1)) / 1024 if match else float("nan")

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=30)
        self._log.close()


def _milliseconds(text: str) -> float:
    match = re.fullmatch(r"([\d.]+)(us|ms|s)", text)
    if match is None:
        raise ValueError(f"unexpected wrk latency {text!r}")
    return float(match.group(1)) * _UNITS[match.group(2)]


def parse_wrk(output: str) -> Figures:
    rate = re.search(r"Requests/sec:\s+([\d.]+)", output)
    p50 = re.search(r"^\s+50%\s+(\S+)", output, re.MULTILINE)
    p99 = re.search(r"^\s+99%\s+(\S+)", output, re.MULTILINE)
    if rate is None or p50 is None or p99 is None:
        raise ValueError(f"cannot read wrk output:\n{output}")
    errors = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", output)
    socket_errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output)
    failed = int(errors.group(1)) if errors else 0
    failed += sum(int(count) for count in socket_errors.groups()) if socket_errors else 0
    total = re.search(r"(\d+) requests in", output)
    requests = int(total.group(1)) if total else 0
    return Figures(float(rate.group(1)), _milliseconds(p50.group(1)), _milliseconds(p99.group(1)), failed, requests)


def run_wrk(server: Server, wrk: str, path: str, authorization: str, *, seconds: int, **options: int) -> Figures:
    command = [wrk, f"-t{options['threads']}", f"-c{options['connections']}", f"-d{seconds}s", "--latency",
               "-H", f"Authorization: {authorization}", server.url + path]  # fmt: skip
    cpu_before = server.cpu_seconds()
    output = subprocess.run(command, check=True, capture_output=True, text=True).stdout
    figures = parse_wrk(output)
    cpu_us = (server.cpu_seconds() - cpu_before) * 1e6 / max(1, figures.requests)
    return dataclasses.replace(figures, server_cpu_us=cpu_us)


def median(runs: list[Figures]) -> Figures:
    return Figures(
        statistics.median(run.requests_per_second for run in runs),
        statistics.median(run.p50_ms for run in runs),
        statistics.median(run.p99_ms for run in runs),
        sum(run.errors for run in runs),
        sum(run.requests for run in runs),
        statistics.median(run.server_cpu_us for run in runs),
    )


def measure(server: Server, wrk: str, args: argparse.Namespace) -> dict[str, Figures]:
    authorization = server.authorization()
    check_endpoints(server, authorization)
    options = {"connections": args.connections, "threads": args.threads}
    runs: dict[str, list[Figures]] = {name: [] for name in ENDPOINTS}
    for path in ENDPOINTS.values():  # warm-up
        run_wrk(server, wrk, path, authorization, seconds=2, **options)
    for _ in range(args.rounds):
        for name, path in ENDPOINTS.items():
            runs[name].append(run_wrk(server, wrk, path, authorization, seconds=args.seconds, **options))
    return {name: median(figures) for name, figures in runs.items()}


def check_endpoints(server: Server, authorization: str) -> None:
    """Every measured request must answer 200 with a body, or the figures mean nothing."""
    with httpx.Client(base_url=server.url, headers={"Authorization": authorization}) as client:
        for name, path in ENDPOINTS.items():
            response = client.get(path)
            if response.status_code != 200:
                raise SystemExit(f"{name}: {response.status_code} {response.text}")


def report(results: dict[str, Figures], server: Server, first_start_mb: float) -> None:
    print(f"{'endpoint':<10} {'req/s':>9} {'p50 ms':>8} {'p99 ms':>8} {'errors':>7} {'server CPU us/req':>18}")
    for name, figures in results.items():
        print(f"{name:<10} {figures.requests_per_second:>9,.0f} {figures.p50_ms:>8.2f} "
              f"{figures.p99_ms:>8.2f} {figures.errors:>7} {figures.server_cpu_us:>18.0f}")  # fmt: skip
    healthz = results["healthz"]
    for name, goal in (("search", 0.35), ("areacodes", 0.5)):
        rate = results[name].requests_per_second / healthz.requests_per_second
        cpu = healthz.server_cpu_us / results[name].server_cpu_us
        print(f"{name}/healthz {rate:.2f} by req/s, {cpu:.2f} by server CPU per request (goal >= {goal})")
    print(f"server RSS {server.memory_mb():.0f} MB, peak {server.memory_mb('VmHWM'):.0f} MB (goal < 150 MB); "
          f"the first start, which seeded the inventory in-process, peaked at {first_start_mb:.0f} MB")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=int, default=5, help="per endpoint and round (after a 2 s warm-up)")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--threads", type=int, default=1, help="wrk threads (leave the server a core)")
    args = parser.parse_args()
    wrk = ensure_wrk()
    data_dir = Path(tempfile.mkdtemp(prefix="telroute-bench-numbers-"))
    try:
        seeding = Server(data_dir)
        try:
            print(f"{os.cpu_count()} cores; first start (seeds the inventory) ready in {seeding.wait_ready():.1f} s")
            first_start_mb = seeding.memory_mb("VmHWM")
        finally:
            seeding.stop()
        # Measured on a second start, as every start after the first one runs: no seeding in the process.
        server = Server(data_dir)
        try:
            print(f"second start ready in {server.wait_ready():.1f} s", flush=True)
            report(measure(server, wrk, args), server, first_start_mb)
        finally:
            server.stop()
    finally:
        shutil.rmtree(data_dir, ignore_errors=True)


if __name__ == "__main__":
    main()
