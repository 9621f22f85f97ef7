"""What open consoles cost the API: accepted sends/s and the server's CPU per send with no console open and
with N consoles (default 100) of the sending account holding the live stream open (each send moves what
they watch, the worst case), in alternating phases (none, N, none, N, ..., none). Each phase with consoles
is compared with the mean of the two phases around it; the median over the rounds is the figure.

The consoles read in a process of their own at the lowest CPU priority (`nice 19`), as browsers on other
machines would: on this 2-core machine their reading would otherwise take CPU from the server being
measured. The server's CPU per send is the steadier figure on a shared machine; sends/s moves with the
machine's other load.

Run: .venv/bin/python -m benchmarks.console_streams [--consoles 100] [--seconds 8] [--rounds 3] [--database-url ...]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import os
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass
from multiprocessing.sharedctypes import Synchronized

import httpx
from tests.support.console_session import signed_in

from benchmarks.messages_http import cpu_seconds
from benchmarks.support import RunningServer, basic, machine, post_script, start_server, wrk


def prepare(server: RunningServer) -> tuple[tuple[str, str], dict[str, object]]:
    keys = json.loads(server.cli("accounts", "create", "--name", "bench", "--json"))
    key, secret = keys["access_key"], keys["secret_key"]
    server.cli("accounts", "set-limits", key, "--sms-per-second", "1000000", "--mms-per-second", "1000000")
    with httpx.Client(base_url=server.url, auth=(key, secret)) as client:
        number = client.get("/v2/numbers/available", params={"starts_with": "1206", "limit": 1}).json()["data"][0]["id"]
        client.post(f"/v2/numbers/{number}").raise_for_status()
    return (key, secret), {"to": "12065550100", "from": number, "body": "benchmark message"}


@dataclass(frozen=True)
class Phase:
    sends_per_second: float
    cpu_ms_per_send: float


class Consoles:
    """`count` live streams of one console session, read by a separate low-priority process; each reader
    reconnects like a browser when the server ends its stream. `open` and `events` are shared counters."""

    def __init__(self, url: str, cookies: dict[str, str], count: int) -> None:
        self.open: Synchronized[int] = multiprocessing.Value("i", 0)
        self.events: Synchronized[int] = multiprocessing.Value("i", 0)
        self._process = multiprocessing.get_context("fork").Process(
            target=_read_streams, args=(url, cookies, count, self.open, self.events), daemon=True
        )

    def __enter__(self) -> Consoles:
        self._process.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._process.terminate()
        self._process.join(timeout=30)

    def wait_open(self, count: int, timeout: float = 60.0) -> None:
        ends = time.monotonic() + timeout
        while self.open.value < count:
            if time.monotonic() > ends:
                raise RuntimeError(f"only {self.open.value} of {count} console streams opened")
            time.sleep(0.05)


def _read_streams(
    url: str, cookies: dict[str, str], count: int, opened: Synchronized[int], events: Synchronized[int]
) -> None:
    os.nice(19)

    async def read(client: httpx.AsyncClient) -> None:
        while True:
            async with client.stream("GET", "/console/api/stream") as stream:
                with opened.get_lock():
                    opened.value += 1
                async for line in stream.aiter_lines():
                    if line.startswith("event: change"):
                        with events.get_lock():
                            events.value += 1
                with opened.get_lock():
                    opened.value -= 1

    async def run() -> None:
        limits = httpx.Limits(max_connections=count + 10)
        async with httpx.AsyncClient(base_url=url, cookies=cookies, limits=limits, timeout=None) as client:
            await asyncio.gather(*(read(client) for _ in range(count)))

    asyncio.run(run())


def _cost(with_consoles: Phase, around: tuple[Phase, Phase]) -> tuple[float, float]:
    """(% of send throughput lost, % more server CPU per send) against the mean of the phases around it."""
    rate = (around[0].sends_per_second + around[1].sends_per_second) / 2
    cpu = (around[0].cpu_ms_per_send + around[1].cpu_ms_per_send) / 2
    return 100 * (1 - with_consoles.sends_per_second / rate), 100 * (with_consoles.cpu_ms_per_send / cpu - 1)


def measure(server: RunningServer, script: str, seconds: int) -> Callable[[], Phase]:
    def sends() -> Phase:
        cpu = cpu_seconds(server.process.pid)
        result = wrk(f"{server.url}/v2.1/messages", seconds=seconds, script=script)
        spent = 1000 * (cpu_seconds(server.process.pid) - cpu) / max(result.requests, 1)
        return Phase(result.requests_per_second, spent)

    return sends


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--consoles", type=int, default=100)
    parser.add_argument("--seconds", type=int, default=8)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--database-url")
    options = parser.parse_args()
    env = {"TELROUTE_INVENTORY_PER_BLOCK": "2"}
    if options.database_url:
        env["TELROUTE_DATABASE_URL"] = options.database_url
    server = start_server(env)
    try:
        keys, body = prepare(server)
        sends = measure(server, post_script(body, basic(*keys)), options.seconds)
        session = signed_in(server.url, keys)
        cookies = dict(session.cookies.items())
        session.close()
        database = options.database_url or "SQLite"
        print(f"machine: {machine()}; load average {os.getloadavg()[0]:.1f}; database: {database}")
        report(sends, server.url, cookies, options)
    finally:
        server.stop()


def _show(label: str, phase: Phase) -> None:
    print(f"  {label}: {phase.sends_per_second:,.0f} sends/s, {phase.cpu_ms_per_send:.3f} ms server CPU per send")


def report(sends: Callable[[], Phase], url: str, cookies: dict[str, str], options: argparse.Namespace) -> None:
    quiet = [sends()]
    _show("no console open", quiet[0])
    costs: list[tuple[float, float]] = []
    for _ in range(options.rounds):
        with Consoles(url, cookies, options.consoles) as consoles:
            consoles.wait_open(options.consoles)
            busy = sends()
            _show(f"{consoles.open.value} consoles open ({consoles.events.value:,} change events received)", busy)
        quiet.append(sends())
        _show("no console open", quiet[-1])
        costs.append(_cost(busy, (quiet[-2], quiet[-1])))
    throughput = statistics.median(cost[0] for cost in costs)
    cpu = statistics.median(cost[1] for cost in costs)
    rounds = ", ".join(f"{lost:.1f}%/{more:+.1f}%" for lost, more in costs)
    print(
        f"  cost of {options.consoles} consoles (median of {len(costs)} rounds: {rounds}): "
        f"{throughput:.1f}% of send throughput, {cpu:+.1f}% server CPU per send"
    )


if __name__ == "__main__":
    main()
