"""The soak of issue 12: sends at half the maximum end-to-end rate for 10 minutes, loopback only.

"A 10-minute soak at half the maximum end-to-end rate: RSS of every process flat (growth under 10% after the
first minute), no error, every callback delivered."

It starts the deployment of `benchmarks/run.py` (SQLite: one `telroute serve`, on two cores or more with its
worker in a child process, whose RSS is counted with `serve`'s; PostgreSQL: `serve --no-worker`
and `worker` on a throwaway database) with its local DLR receiver (`benchmarks.callback_counter`) and its
account (limits raised, an owned number, the account's `sms_dlr_callback` at the receiver, simulator receipts
after 0.2 s). Unless `--rate` is given, an 8 s wrk burst measures the maximum end-to-end rate (as run.py's
end to end does) and the soak sends at half of it. The sends are paced: a few aiohttp clients, each with one
connection, each send at its slot of a fixed timetable (send i at i / rate s); a client late by more than its
own period skips the slots it missed (counted) rather than catching up. Every 5 s the RSS of every telroute
process (/proc/PID/status VmRSS) and the receiver's level-2 counts are sampled. When the sending ends it waits
(bounded) for the queue to drain, then prints the rates, accepted sends and errors, callbacks delivered and
duplicated, each process's RSS and CPU per message, and a one-line verdict.

Errors: every non-202 response, every transport error (or timeout), a telroute process that exited, and
each line of the telroute log written during the soak at level warning or above, with a traceback, or
recording a failed callback attempt.

Usage: .venv/bin/python -m benchmarks.soak [--database sqlite|postgres] [--minutes 10] [--rate N]
       [--clients 8] [--series FILE.csv] [--postgres-url postgresql://postgres@127.0.0.1:5432/test]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import csv
import json
import os
import re
import shutil
import signal
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType

import aiohttp

from benchmarks.run import (
    Deployment,
    Process,
    children,
    deployed,
    drain_burst,
    postgres_database,
    prepare_account,
    send_burst,
)
from benchmarks.run import wait_drained as run_wait_drained
from benchmarks.support import machine

BURST_SECONDS = 8  # the burst measuring the maximum end-to-end rate, as run.py's default
SAMPLE_SECONDS = 5.0
FIRST_MINUTE = 60.0
FLAT = 0.10  # the goal: RSS growth after the first minute under 10%
RATE_HELD = 0.95  # the soak ran at its rate if it achieved this share of it
REQUEST_TIMEOUT = 30.0
LOG_PROBLEM = re.compile(r"\[(warning|error|critical)\s*\]|Traceback|\] callback\s.*\berror=(?!None\b)")


def rss_kb(pid: int) -> int:
    match = re.search(r"^VmRSS:\s+(\d+) kB", Path(f"/proc/{pid}/status").read_text(), re.M)
    return int(match.group(1)) if match else 0


def rss_with_children_kb(pid: int) -> int:
    """A process's RSS with its children's (`serve`'s worker process)."""
    return rss_kb(pid) + sum(rss_kb(child) for child in children(pid))


@dataclass
class ReceiverStats:
    level1: int = 0
    level2: int = 0  # every level-2 callback
    unique_level2: int = 0  # distinct message ids

    @property
    def duplicates(self) -> int:
        return self.level2 - self.unique_level2


@dataclass
class Sample:
    seconds: float  # since the soak's first slot
    rss_kb: list[int]  # one per process, in the order of Deployment.processes
    accepted: int
    receiver: ReceiverStats


@dataclass
class Sends:
    sent: int = 0
    accepted: int = 0  # 202s
    missed: int = 0  # slots skipped by a client late by more than its period
    statuses: Counter[int] = field(default_factory=Counter)  # non-202 responses
    transport: Counter[str] = field(default_factory=Counter)  # transport errors and timeouts, by type
    latencies: list[float] = field(default_factory=list)  # seconds, of each send that got a response
    last_response: float = 0.0  # loop time

    @property
    def errors(self) -> int:
        return sum(self.statuses.values()) + sum(self.transport.values())


def process_names(deployment: Deployment) -> list[str]:
    return ["serve (both processes)"] if len(deployment.processes) == 1 else ["serve --no-worker", "worker"]


async def receiver_stats(session: aiohttp.ClientSession, receiver: str) -> ReceiverStats:
    async with session.get(f"{receiver}/stats") as response:
        counts = json.loads(await response.read())
    return ReceiverStats(
        int(counts.get("level1", 0)), int(counts.get("level2", 0)), int(counts.get("unique_level2", 0))
    )


async def client(
    index: int, clients: int, start: float, rate: float, seconds: float, deployment: Deployment, sends: Sends
) -> None:
    """Sends the slots index, index + clients, ... of the timetable (slot i due at start + i / rate)."""
    loop = asyncio.get_running_loop()
    period = clients / rate
    headers = {"Authorization": deployment.authorization, "Content-Type": "application/json"}
    body = json.dumps(deployment.message).encode()
    url = f"{deployment.api.url}/v2.1/messages"
    timeout = aiohttp.ClientTimeout(total=REQUEST_TIMEOUT)
    connector = aiohttp.TCPConnector(limit=1)
    async with aiohttp.ClientSession(connector=connector, timeout=timeout) as session:
        slot = index
        while slot / rate < seconds:
            due = start + slot / rate
            now = loop.time()
            if now > due + period:  # late by more than a period: skip to the next slot still ahead
                skipped = int((now - due) / period)
                sends.missed += skipped
                slot += skipped * clients
                continue
            if due > now:
                await asyncio.sleep(due - now)
            sends.sent += 1
            sent_at = loop.time()
            try:
                async with session.post(url, data=body, headers=headers) as response:
                    await response.read()
                    status = response.status
            except (aiohttp.ClientError, TimeoutError) as error:
                sends.transport[type(error).__name__] += 1
            else:
                sends.latencies.append(loop.time() - sent_at)
                if status == 202:
                    sends.accepted += 1
                else:
                    sends.statuses[status] += 1
            sends.last_response = loop.time()
            slot += clients


async def sampler(
    deployment: Deployment, start: float, sends: Sends, samples: list[Sample], stop: asyncio.Event
) -> None:
    """A sample every SAMPLE_SECONDS from `start` (a fixed timetable) until `stop`, and one when stopped; a line
    of progress every minute."""
    loop = asyncio.get_running_loop()
    names = process_names(deployment)
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=REQUEST_TIMEOUT)) as session:
        await asyncio.sleep(max(0.0, start - loop.time()))
        tick = 0
        while True:
            stopped = stop.is_set()
            rss = [
                rss_with_children_kb(process.popen.pid) if process.popen.poll() is None else 0
                for process in deployment.processes
            ]
            stats = await receiver_stats(session, deployment.receiver)
            sample = Sample(loop.time() - start, rss, sends.accepted, stats)
            samples.append(sample)
            if tick % round(60 / SAMPLE_SECONDS) == 0 or stopped:
                memory = ", ".join(f"{name} {kb / 1024:,.1f} MB" for name, kb in zip(names, rss, strict=True))
                print(
                    f"  {sample.seconds:>6.0f} s  accepted {sends.accepted:>7,}  errors {sends.errors:>3,}  "
                    f"level-2 (distinct) {stats.unique_level2:>7,}  RSS {memory}",
                    flush=True,
                )
            if stopped:
                return
            tick += 1
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=max(0.0, start + tick * SAMPLE_SECONDS - loop.time()))


@dataclass
class Soak:
    rate: float
    seconds: float
    sends: Sends
    sending_seconds: float  # from the first slot to the last response
    samples: list[Sample]
    before: ReceiverStats
    after: ReceiverStats
    drained: bool
    cpu_seconds: list[float]  # per process, over the soak and its drain
    exited: list[int | None]  # per process: its exit code if it exited


def cpu_or_zero(process: Process) -> float:
    return process.cpu_seconds() if process.popen.poll() is None else 0.0


async def soak(deployment: Deployment, rate: float, seconds: float, clients: int) -> Soak:
    loop = asyncio.get_running_loop()
    async with aiohttp.ClientSession() as session:
        before = await receiver_stats(session, deployment.receiver)
    cpu = [process.cpu_seconds() for process in deployment.processes]
    sends: Sends = Sends()
    samples: list[Sample] = []
    stop = asyncio.Event()
    start = loop.time() + 0.5
    sampling = asyncio.create_task(sampler(deployment, start, sends, samples, stop))
    try:
        await asyncio.gather(*(client(k, clients, start, rate, seconds, deployment, sends) for k in range(clients)))
        sending_seconds = max(0.0, sends.last_response - start)
        print(f"  sending done after {sending_seconds:,.1f} s; waiting for the queue to drain", flush=True)
        expected = before.unique_level2 + sends.accepted
        drain_timeout = max(120.0, seconds / 4)
        seen, _ = await asyncio.to_thread(run_wait_drained, deployment, expected, drain_timeout)
    finally:
        stop.set()
        await sampling
    after = samples[-1].receiver
    cpu = [max(0.0, cpu_or_zero(process) - used) for process, used in zip(deployment.processes, cpu, strict=True)]
    exited = [process.popen.poll() for process in deployment.processes]
    return Soak(rate, seconds, sends, sending_seconds, samples, before, after, seen >= expected, cpu, exited)


def log_problems(log: Path, offset: int) -> list[str]:
    with log.open("rb") as file:
        file.seek(offset)
        text = file.read().decode(errors="replace")
    return [line for line in text.splitlines() if LOG_PROBLEM.search(line)]


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))] if ordered else 0.0


def report(deployment: Deployment, result: Soak, problems: list[str]) -> None:
    sends, samples = result.sends, result.samples
    achieved = sends.accepted / max(1e-9, result.sending_seconds)
    held = achieved >= RATE_HELD * result.rate
    print(
        f"rate: asked {result.rate:,.1f} msg/s, achieved {achieved:,.1f} msg/s of 202s "
        f"({sends.sent:,} sent in {result.sending_seconds:,.1f} s; {sends.missed:,} slots missed by late clients); "
        f"send latency p50 {1e3 * percentile(sends.latencies, 0.5):,.1f} ms, "
        f"p99 {1e3 * percentile(sends.latencies, 0.99):,.1f} ms"
    )
    statuses = ", ".join(f"{status}: {count:,}" for status, count in sorted(sends.statuses.items())) or "none"
    transport = ", ".join(f"{name}: {count:,}" for name, count in sorted(sends.transport.items())) or "none"
    print(f"accepted (202): {sends.accepted:,}; errors: non-202 {statuses}; transport {transport}")
    distinct = result.after.unique_level2 - result.before.unique_level2
    duplicates = result.after.duplicates - result.before.duplicates
    level1 = result.after.level1 - result.before.level1
    delivered = distinct == sends.accepted and duplicates == 0
    drained = "" if result.drained else " (the drain timed out)"
    print(
        f"callbacks: level 2 {distinct:,} distinct message ids, {duplicates:,} duplicates{drained}; "
        f"level 1 {level1:,}; every callback delivered: {'yes' if delivered else 'NO'}"
    )
    died = [
        f"{name} exited with {code}"
        for name, code in zip(process_names(deployment), result.exited, strict=True)
        if code is not None
    ]
    print(f"telroute log during the soak: {len(problems):,} lines at warning or above, tracebacks, failed callbacks")
    for line in problems[:5]:
        print(f"  {line[:200]}")

    first_minute = next((sample for sample in samples if sample.seconds >= FIRST_MINUTE), samples[0])
    end = samples[-1]
    flat_all = True
    print(f"RSS (every {SAMPLE_SECONDS:.0f} s, {len(samples)} samples) and CPU per message:")
    names = process_names(deployment)
    for index, name in enumerate(names):
        at_1min, at_end = first_minute.rss_kb[index], end.rss_kb[index]
        peak = max(sample.rss_kb[index] for sample in samples)
        growth = (at_end - at_1min) / at_1min if at_1min else float("inf")
        flat = growth < FLAT
        flat_all = flat_all and flat
        cpu_us = 1e6 * result.cpu_seconds[index] / max(1, distinct)
        print(
            f"  {name:<18} start {samples[0].rss_kb[index] / 1024:>6,.1f} MB, "
            f"at {first_minute.seconds:.0f} s {at_1min / 1024:>6,.1f} MB, end {at_end / 1024:>6,.1f} MB, "
            f"max {peak / 1024:>6,.1f} MB; growth after the first minute {100 * growth:+.1f}% "
            f"({'flat (< 10%)' if flat else 'NOT flat'}); CPU {cpu_us:,.0f} us/message"
        )
    errors = sends.errors + len(problems) + len(died)
    reasons = []
    if not flat_all:
        reasons.append("RSS not flat")
    if errors:
        reasons.append(
            f"{errors:,} errors ({sends.errors:,} sends, {len(problems):,} log lines"
            + (f", {'; '.join(died)}" if died else "")
            + ")"
        )
    if not delivered:
        reasons.append(f"{distinct:,} level-2 callbacks for {sends.accepted:,} accepted, {duplicates:,} duplicates")
    if not held:
        reasons.append(f"rate not held ({achieved:,.1f} of {result.rate:,.1f} msg/s)")
    minutes = result.seconds / 60
    if reasons:
        print(f"verdict: goal NOT met ({minutes:g} min at {result.rate:,.1f} msg/s): " + "; ".join(reasons))
    else:
        print(
            f"verdict: goal met: {minutes:g} min at {achieved:,.1f} msg/s, RSS of every process flat, no error, "
            f"all {sends.accepted:,} level-2 callbacks delivered once"
        )


def write_series(path: Path, deployment: Deployment, samples: list[Sample]) -> None:
    names = process_names(deployment)
    with path.open("w", newline="") as file:
        writer = csv.writer(file)
        writer.writerow(
            ["seconds", *(f"rss_kb {name}" for name in names), "accepted", "level2_distinct", "level2_total"]
        )
        for sample in samples:
            stats = sample.receiver
            writer.writerow(
                [f"{sample.seconds:.1f}", *sample.rss_kb, sample.accepted, stats.unique_level2, stats.level2]
            )


def run(database: str, database_url: str | None, options: argparse.Namespace) -> None:
    data_dir: Path | None = None
    try:
        with deployed(database, database_url, quick=False) as deployment:
            data_dir = Path(deployment.env["TELROUTE_DATA_DIR"])
            prepare_account(deployment)
            processes = zip(process_names(deployment), deployment.processes, strict=True)
            pids = ", ".join(f"{name} pid {process.popen.pid}" for name, process in processes)
            print(f"{database}: {pids}; receiver {deployment.receiver}", flush=True)
            rate = options.rate
            if rate is None:
                burst = send_burst(deployment, BURST_SECONDS)
                measured = drain_burst(deployment, burst, BURST_SECONDS)
                rate = measured.rate / 2
                print(
                    f"maximum end-to-end rate: {measured.rate:,.1f} msg/s ({BURST_SECONDS} s wrk burst, "
                    f"{burst.accepted:,} 202s counted by wrk, {burst.sends.non_2xx:,} non-2xx, "
                    f"{measured.delivered:,} delivered to level 2); "
                    f"soak rate (half): {rate:,.1f} msg/s",
                    flush=True,
                )
            else:
                print(f"soak rate (--rate): {rate:,.1f} msg/s", flush=True)
            seconds = 60 * options.minutes
            print(f"soak: {options.minutes:g} min, {options.clients} clients", flush=True)
            log = data_dir / "telroute.log"
            offset = log.stat().st_size
            result = asyncio.run(soak(deployment, rate, seconds, options.clients))
            if options.series:
                write_series(Path(options.series), deployment, result.samples)
            report(deployment, result, log_problems(log, offset))
    finally:
        if data_dir is not None:
            shutil.rmtree(data_dir, ignore_errors=True)


def terminated(signum: int, frame: FrameType | None) -> None:
    raise SystemExit(128 + signum)  # unwinds through the cleanups (processes, database, data directory)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database", choices=("sqlite", "postgres"), default="sqlite")
    parser.add_argument("--minutes", type=float, default=10.0)
    parser.add_argument("--rate", type=float, help="messages/s (default: half the maximum end-to-end rate)")
    parser.add_argument("--clients", type=int, default=8, help="concurrent senders, one connection each")
    parser.add_argument("--series", help="write the 5 s samples to this CSV file")
    parser.add_argument("--postgres-url", default="postgresql://postgres@127.0.0.1:5432/test", help="admin URL")
    options = parser.parse_args()
    if options.minutes <= 0 or options.clients < 1 or (options.rate is not None and options.rate <= 0):
        parser.error("--minutes, --clients and --rate must be positive")
    signal.signal(signal.SIGTERM, terminated)
    print(f"machine: {machine()}; load average {os.getloadavg()[0]:.2f}; python {sys.version.split()[0]}")
    started = time.monotonic()
    if options.database == "postgres":
        with postgres_database(options.postgres_url) as url:
            run("postgres", url, options)
    else:
        run("sqlite", None, options)
    print(f"took {time.monotonic() - started:,.0f} s")


if __name__ == "__main__":
    main()
