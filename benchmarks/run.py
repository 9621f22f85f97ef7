"""One command for the performance figures of issue 12, on SQLite and PostgreSQL, loopback only.

For each database it starts telroute, a local DLR receiver (`benchmarks.callback_counter`) and wrk, and
measures in the same run: `/healthz`; the number search and area-code list (the sandbox inventory);
accepted `POST /v2.1/messages` (limits raised); and end to end, sends for N s from 32 connections with the
simulator's receipt delay at 0.2 s until every accepted message's level-2 DLR callback arrived. It prints
each path's rate, p50/p99 and ratio to `/healthz`, and for end to end the rate, server CPU per message
(process CPU counters of every telroute process) and SQL statements per message
(`telroute_db_statements_total` from each process's `/metrics`).

Topologies: SQLite, `telroute serve` as the README starts it (on two cores or more its worker runs in a
child process; the CPU figures count both); PostgreSQL, one `serve --no-worker` and one `worker --port`;
and, for its `/healthz` and end to end only, SQLite with `serve --worker-in-process` (one process).

Usage: benchmarks/run [--quick] [--seconds 8] [--only sqlite|postgres] [--postgres-admin-url URL]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from benchmarks.postgres_scale import postgres_server_cpu
from benchmarks.support import WrkResult, basic, free_port, local_get, machine, post_script, wrk

TELROUTE = [sys.executable, "-m", "telroute"]
GOALS = {"search": 0.35, "areacodes": 0.50, "accepted": 0.15}
E2E_GOALS = {"sqlite": 0.10, "postgres": 0.05}
QUIET = 1.5  # seconds without a new level-2 callback after the last expected one: the run is over
PATHS = {
    "search": "/v2/numbers/available?starts_with=1206&limit=10",
    "areacodes": "/v2/numbers/available/areacodes?limit=10",
}
# The search again, every request a question the process has not answered lately (`numbers/answers.py`
# keeps 512 answers): each area code of the inventory with limits 10 to 13, each wrk thread from its own
# place in the cycle. What the same search costs when its answer is not kept.
_SEARCH_VARIED = """
local codes = {%s}
local threads = 0
setup = function(thread) thread:set("offset", threads * 7919); threads = threads + 1 end
init = function(args) counter = offset end
request = function()
  counter = counter + 1
  local code = codes[(counter %% #codes) + 1]
  local limit = 10 + math.floor(counter / #codes) %% 4
  return wrk.format("GET", "/v2/numbers/available?starts_with=1" .. code .. "&limit=" .. limit,
                    {["Authorization"] = "%s"})
end
"""


def search_varied_script(deployment: Deployment) -> str:
    with httpx.Client(base_url=deployment.api.url, timeout=30) as client:
        headers = {"Authorization": deployment.authorization}
        found = client.get("/v2/numbers/available/areacodes", params={"limit": 400}, headers=headers).json()
    codes = ", ".join(f'"{item["id"]}"' for item in found["data"])
    return _SEARCH_VARIED % (codes, deployment.authorization)


def children(pid: int) -> list[int]:
    try:
        return [int(child) for child in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except OSError:
        return []


def _cpu_seconds(pid: int) -> float:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@dataclass
class Process:
    popen: subprocess.Popen[bytes]
    url: str

    def cpu_seconds(self) -> float:
        """CPU of the process and of its children (`serve`'s worker process)."""
        return sum(_cpu_seconds(pid) for pid in [self.popen.pid, *children(self.popen.pid)])

    def statements(self) -> int:
        for line in local_get(f"{self.url}/metrics").text.splitlines():
            if line.startswith("telroute_db_statements_total "):
                return int(float(line.split()[1]))
        return 0

    def stop(self) -> None:
        self.popen.terminate()
        self.popen.wait(timeout=30)


def wait_healthy(process: Process, timeout: float = 600) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.popen.poll() is not None:
            raise SystemExit(f"{process.url}: process exited with {process.popen.returncode}")
        try:
            if httpx.get(f"{process.url}/healthz", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    raise SystemExit(f"{process.url} not healthy in time")


def spawn(env: dict[str, str], log: Path, *args: str) -> Process:
    port = free_port()
    command = [*TELROUTE, *args, "--port", str(port)]
    popen = subprocess.Popen(command, env=env, stdout=log.open("ab"), stderr=subprocess.STDOUT)
    process = Process(popen, f"http://127.0.0.1:{port}")
    wait_healthy(process)
    return process


@dataclass
class Deployment:
    env: dict[str, str]
    api: Process
    processes: list[Process]
    receiver: str
    authorization: str = ""
    message: dict[str, object] = field(default_factory=dict)  # the JSON body of each send
    body: str = ""  # wrk's script sending `message`

    def cli(self, *args: str) -> str:
        return subprocess.run([*TELROUTE, *args], env=self.env, capture_output=True, text=True, check=True).stdout

    def level2(self) -> int:
        return int(local_get(f"{self.receiver}/stats").json().get("unique_level2", 0))

    def cpu_seconds(self) -> float:
        return sum(process.cpu_seconds() for process in self.processes)

    def statements(self) -> int:
        return sum(process.statements() for process in self.processes)


def prepare_account(deployment: Deployment) -> None:
    keys = json.loads(deployment.cli("accounts", "create", "--name", "bench", "--json"))
    key, secret = keys["access_key"], keys["secret_key"]
    deployment.cli("accounts", "set-limits", key, "--sms-per-second", "1000000", "--mms-per-second", "1000000")
    with httpx.Client(base_url=deployment.api.url, auth=(key, secret), timeout=30) as client:
        found = client.get("/v2/numbers/available", params={"starts_with": "1206", "limit": 1}).json()
        number = found["data"][0]["id"]
        client.post(f"/v2/numbers/{number}").raise_for_status()
        callback = {"callback_url": f"{deployment.receiver}/dlr"}
        client.put("/v2.1/messages/sms_dlr_callback", json=callback).raise_for_status()
    deployment.authorization = basic(key, secret)
    deployment.message = {"to": "12065550100", "from": number, "body": "benchmark"}
    deployment.body = post_script(deployment.message, deployment.authorization)


def wait_drained(deployment: Deployment, accepted: int, timeout: float) -> tuple[int, float]:
    """Wait for `accepted` distinct level-2 callbacks and then for `QUIET` seconds without a new one (the
    sends in flight when wrk stopped, whose 202s it did not count); (count, monotonic time the last one was
    first seen). Only the receiver is polled: a /metrics scrape would add statements of its own."""
    deadline = time.monotonic() + timeout
    seen, changed = deployment.level2(), time.monotonic()
    while time.monotonic() < deadline:
        time.sleep(0.02)
        now = deployment.level2()
        if now != seen:
            seen, changed = now, time.monotonic()
        elif seen >= accepted and time.monotonic() - changed > QUIET:
            break
    return seen, changed


def row(name: str, rate: float, healthz: float, p50: float, p99: float, extra: str = "") -> None:
    ratio = rate / healthz if healthz else 0.0
    goal = GOALS.get(name)
    verdict = "" if goal is None else (f" goal >= {goal:.2f} " + ("met" if ratio >= goal else "NOT met"))
    figures = f"{rate:>9,.0f}/s  p50 {p50:>7.2f} ms  p99 {p99:>7.2f} ms  {ratio:>5.3f} of /healthz"
    print(f"  {name:<10} {figures}{verdict}{extra}")


def measure(deployment: Deployment, database: str, seconds: int, *, paths: bool = True) -> None:
    api = deployment.api.url
    auth = {"Authorization": deployment.authorization}
    health = wrk(f"{api}/healthz", seconds=seconds)
    row("healthz", health.requests_per_second, health.requests_per_second, health.p50_ms, health.p99_ms)
    if not paths:
        end_to_end(deployment, database, seconds, health.requests_per_second)
        return
    reads: list[tuple[str, str, str | None]] = [(name, f"{api}{path}", None) for name, path in PATHS.items()]
    reads.insert(1, ("search new", f"{api}/v2/numbers/available", search_varied_script(deployment)))
    for name, url, script in reads:
        cpu, statements = deployment.api.cpu_seconds(), deployment.api.statements()
        result = wrk(url, seconds=seconds, headers=None if script else auth, script=script)
        cpu_us = 1e6 * (deployment.api.cpu_seconds() - cpu) / max(1, result.requests)
        sql = (deployment.api.statements() - statements) / max(1, result.requests)
        extra = f"; API CPU {cpu_us:,.0f} us/request; {sql:.2f} SQL statements/request; non-2xx {result.non_2xx}"
        row(name, result.requests_per_second, health.requests_per_second, result.p50_ms, result.p99_ms, extra)
    end_to_end(deployment, database, seconds, health.requests_per_second)


@dataclass
class Burst:
    """wrk's sends of an end-to-end burst and the counters read just before it."""

    sends: WrkResult
    started: float
    level2: int
    cpu: float
    worker_cpu: float
    statements: int
    database_cpu: float

    @property
    def accepted(self) -> int:
        return self.sends.requests - self.sends.non_2xx


@dataclass
class EndToEnd:
    """A burst once every accepted message's level-2 callback arrived."""

    delivered: int
    rate: float  # messages/s from the first send to the last level-2 callback
    cpu_us: float  # server CPU per message, every telroute process
    cpu_us_worker: float | None  # of it, the `worker` process's (PostgreSQL)
    statements: float  # SQL statements per message
    database_cpu_us: float  # PostgreSQL's own CPU per message (its processes on this machine); 0 for SQLite


def _worker(deployment: Deployment) -> Process | None:
    return deployment.processes[-1] if len(deployment.processes) > 1 else None  # PostgreSQL: `worker`


def send_burst(deployment: Deployment, seconds: int) -> Burst:
    """Sends for `seconds` from wrk's 32 connections (the end-to-end path)."""
    before_level2 = deployment.level2()
    cpu, statements = deployment.cpu_seconds(), deployment.statements()
    worker = _worker(deployment)
    worker_cpu = 0.0 if worker is None else worker.cpu_seconds()
    database_cpu = postgres_server_cpu()
    started = time.monotonic()
    sends = wrk(f"{deployment.api.url}/v2.1/messages", seconds=seconds, script=deployment.body)
    return Burst(sends, started, before_level2, cpu, worker_cpu, statements, database_cpu)


def drain_burst(deployment: Deployment, burst: Burst, seconds: int) -> EndToEnd:
    """Waits for the burst's level-2 callbacks (bounded) and measures its rate, CPU and statements."""
    seen, finished = wait_drained(deployment, burst.level2 + burst.accepted, timeout=max(120.0, 20.0 * seconds))
    delivered = seen - burst.level2
    cpu_us = 1e6 * (deployment.cpu_seconds() - burst.cpu) / max(1, delivered)
    per_message = (deployment.statements() - burst.statements) / max(1, delivered)
    worker = _worker(deployment)
    cpu_us_worker = None if worker is None else 1e6 * (worker.cpu_seconds() - burst.worker_cpu) / max(1, delivered)
    database_us = 0.0 if worker is None else 1e6 * (postgres_server_cpu() - burst.database_cpu) / max(1, delivered)
    rate = delivered / (finished - burst.started)
    return EndToEnd(delivered, rate, cpu_us, cpu_us_worker, per_message, database_us)


def end_to_end(deployment: Deployment, database: str, seconds: int, healthz: float) -> None:
    burst = send_burst(deployment, seconds)
    sends, accepted = burst.sends, burst.accepted
    extra = f"; non-2xx {sends.non_2xx}"
    row("accepted", sends.requests_per_second, healthz, sends.p50_ms, sends.p99_ms, extra)
    result = drain_burst(deployment, burst, seconds)
    delivered, rate, cpu_us, per_message = result.delivered, result.rate, result.cpu_us, result.statements
    per_message_cpu = f"{cpu_us:,.0f} us/message"
    if result.cpu_us_worker is not None:
        per_message_cpu += f" ({result.cpu_us_worker:,.0f} in the worker)"
    if database == "postgres":
        per_message_cpu += f", PostgreSQL {result.database_cpu_us:,.0f} us/message"
    goal = E2E_GOALS[database]
    verdict = "met" if rate / healthz >= goal else "NOT met"
    print(
        f"  end to end {rate:>9,.0f} msg/s, {rate / healthz:.3f} of /healthz (goal >= {goal:.2f}: {verdict}); "
        f"{delivered:,} delivered to level 2 ({accepted:,} 202s counted by wrk); "
        f"server CPU {per_message_cpu}; {per_message:.1f} SQL statements/message"
    )


@contextmanager
def receiver() -> Iterator[str]:
    port = free_port()
    popen = subprocess.Popen([sys.executable, "-m", "benchmarks.callback_counter", str(port)])
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_listening(url)
        yield url
    finally:
        popen.terminate()
        popen.wait()


def _wait_listening(url: str) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            httpx.get(f"{url}/stats", timeout=1)
            return
        except httpx.TransportError:
            time.sleep(0.1)
    raise SystemExit("the callback receiver did not start")


def base_env(data_dir: Path, database_url: str | None, quick: bool) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith("TELROUTE_")}
    env.update(TELROUTE_DATA_DIR=str(data_dir), TELROUTE_SIMULATOR_RECEIPT_DELAY="0.2")
    if quick:
        env["TELROUTE_INVENTORY_PER_BLOCK"] = "2"
    if database_url:
        env["TELROUTE_DATABASE_URL"] = database_url
    return env


@contextmanager
def deployed(database: str, database_url: str | None, quick: bool, *serve_options: str) -> Iterator[Deployment]:
    """PostgreSQL: `serve --no-worker` and a `worker`; SQLite: `serve` with `serve_options`."""
    apart = database == "postgres"
    data_dir = Path(tempfile.mkdtemp(prefix=f"telroute-run-{database}-"))
    env = base_env(data_dir, database_url, quick)
    log = data_dir / "telroute.log"
    with receiver() as receiver_url:
        api = spawn(env, log, "serve", *(("--no-worker",) if apart else serve_options))
        processes = [api]
        try:
            if apart:
                processes.append(spawn(env, log, "worker"))
            yield Deployment(env, api, processes, receiver_url)
        finally:
            for process in reversed(processes):
                process.stop()


@contextmanager
def postgres_database(admin_url: str) -> Iterator[str]:
    name = f"telroute_bench_{os.getpid()}"
    subprocess.run(["psql", admin_url, "-qc", f"CREATE DATABASE {name}"], check=True)
    try:
        yield admin_url.rsplit("/", 1)[0] + f"/{name}"
    finally:
        subprocess.run(["psql", admin_url, "-qc", f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"], check=False)


def run_one(database: str, database_url: str | None, options: argparse.Namespace) -> None:
    print(f"{database}:", flush=True)
    with deployed(database, database_url, options.quick) as deployment:
        prepare_account(deployment)
        measure(deployment, database, options.seconds)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="3 s per path and a small inventory")
    parser.add_argument("--seconds", type=int, default=8)
    parser.add_argument("--only", choices=("sqlite", "postgres"))
    parser.add_argument("--postgres-admin-url", default="postgresql://postgres@127.0.0.1:5432/postgres")
    options = parser.parse_args()
    if options.quick:
        options.seconds = min(options.seconds, 3)
    load = os.getloadavg()[0]
    print(f"machine: {machine()}; load average {load:.2f}; {options.seconds} s per path; wrk 32 connections")
    if options.only in (None, "sqlite"):
        run_one("sqlite", None, options)
    if options.only in (None, "postgres"):
        with postgres_database(options.postgres_admin_url) as url:
            run_one("postgres", url, options)
    if options.only in (None, "sqlite"):
        print("sqlite, one process (serve --worker-in-process; the goal is the embedded default's):")
        with deployed("sqlite", None, options.quick, "--worker-in-process") as deployment:
            prepare_account(deployment)
            measure(deployment, "sqlite", options.seconds, paths=False)


if __name__ == "__main__":
    main()
