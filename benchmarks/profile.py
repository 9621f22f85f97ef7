"""Where the CPU of one message goes, by stage: py-spy samples every telroute process while the end-to-end
load of `benchmarks/run` runs, and each sample is put in the first stage (in the order of `STAGES`) that a
frame of its stack belongs to. Prints microseconds of CPU per delivered message by stage (the process CPU counters
shared out by the stages' shares of the samples) and, of each, the part spent inside the database
driver (sqlite3 / asyncpg, kit/db). Needs py-spy (dev extras) and root or
ptrace rights.

Usage: .venv/bin/python -m benchmarks.profile [--database sqlite|postgres] [--seconds 8]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
from collections import Counter
from pathlib import Path

from benchmarks.run import Deployment, deployed, postgres_database, prepare_account, wait_drained
from benchmarks.support import wrk

RATE = 200  # samples per second and process
STAGES: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("commit", ("_commit_group", "__aexit__ (asyncpg/transaction.py")),
    ("SQLite COMMIT (the committer thread)", ("_WorkItem.run (concurrent/futures/thread.py",)),
    ("auth (Basic, account lookup, hash)", ("authenticate (telroute/accounts/service.py", "parse_basic_auth")),
    ("claim", ("claim (telroute/kit/jobs.py", "_claim_some")),
    ("carrier submit", ("carriers/simulator.py",)),
    ("deliver job (read, route, level 1)", ("deliver_message", "end_submits")),
    ("receipt job (level 2)", ("carrier_receipt", "apply_receipts")),
    ("callback HTTP", ("kit/outbound.py", "aiohttp/")),
    ("callback job (sign, record)", ("webhooks/tasks.py",)),
    ("job bookkeeping (finish, retry)", ("kit/worker.py",)),
    (
        "accept (idempotency, insert, rate limit)",
        ("messages/service.py", "messages/send_batches.py", "kit/idempotency.py", "kit/ratelimit.py"),
    ),
    ("parse + validate request", ("kit/http.py", "messages/schemas.py")),
    ("send endpoint (rest, render 202)", ("messages/api.py", "kit/jsonapi.py")),
    ("HTTP server (uvicorn, starlette, metrics)", ("uvicorn/", "starlette/", "kit/metrics.py", "httptools")),
    ("metrics scrape", ("prometheus_client",)),
)
DRIVER = ("sqlite3", "asyncpg/", "kit/db.py", "_WorkItem.run (concurrent/futures/thread.py")
# A thread pool's thread waiting for work, which py-spy does not always recognize as idle.
IDLE_THREAD = "_worker (concurrent/futures/thread.py"


def stage_of(stack: str) -> str:
    for name, marks in STAGES:
        if any(mark in stack for mark in marks):
            return name
    return "event loop, GC, other"


def spy(pid: int, seconds: int, output: Path) -> subprocess.Popen[bytes]:
    py_spy = str(Path(sys.executable).with_name("py-spy"))
    options = ["--rate", str(RATE), "--duration", str(seconds), "--format", "raw", "--output", str(output)]
    command = [py_spy, "record", "--pid", str(pid), "--subprocesses", *options]  # `serve`'s worker process
    return subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def tally(outputs: list[Path]) -> tuple[Counter[str], Counter[str]]:
    stages: Counter[str] = Counter()
    in_driver: Counter[str] = Counter()
    for output in outputs:
        for line in output.read_text().splitlines():
            stack, _, count = line.rpartition(" ")
            if not count.isdigit() or "(idle)" in stack or stack.rsplit(";", 1)[-1].startswith(IDLE_THREAD):
                continue
            stage = stage_of(stack)
            stages[stage] += int(count)
            if any(mark in stack for mark in DRIVER):
                in_driver[stage] += int(count)
    return stages, in_driver


def profile(deployment: Deployment, seconds: int) -> None:
    before, cpu = deployment.level2(), deployment.cpu_seconds()
    folder = Path(tempfile.mkdtemp(prefix="telroute-profile-"))
    pids = [process.popen.pid for process in deployment.processes]
    spies = [spy(pid, seconds + 6, folder / f"{pid}.txt") for pid in pids]
    sends = wrk(f"{deployment.api.url}/v2.1/messages", seconds=seconds, script=deployment.body)
    wait_drained(deployment, before + sends.requests - sends.non_2xx, timeout=120)
    delivered = deployment.level2() - before
    cpu_us = 1e6 * (deployment.cpu_seconds() - cpu) / max(1, delivered)
    for sampler in spies:
        sampler.wait()
    stages, in_driver = tally([folder / f"{pid}.txt" for pid in pids])
    total = sum(stages.values())
    scale = cpu_us / max(1, total)  # samples count runnable time too; the process CPU counters say how much ran
    print(f"{delivered:,} messages delivered; {cpu_us:,.0f} us of CPU per message (process counters)")
    print("| stage | us per message | of which database driver | share |\n|---|---|---|---|")
    for stage, count in stages.most_common():
        print(f"| {stage} | {count * scale:,.0f} | {in_driver[stage] * scale:,.0f} | {count / total:.0%} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database", choices=("sqlite", "postgres"), default="sqlite")
    parser.add_argument("--seconds", type=int, default=8)
    parser.add_argument("--postgres-admin-url", default="postgresql://postgres@127.0.0.1:5432/postgres")
    options = parser.parse_args()
    if options.database == "postgres":
        with postgres_database(options.postgres_admin_url) as url, deployed("postgres", url, True) as deployment:
            prepare_account(deployment)
            profile(deployment, options.seconds)
    else:
        with deployed("sqlite", None, True) as deployment:
            prepare_account(deployment)
            profile(deployment, options.seconds)


if __name__ == "__main__":
    main()
