"""What open consoles cost the API: accepted sends/s with no console open, then with N consoles
(default 100) of the sending account holding the live stream open (each send moves what they watch,
the worst case), then with none again. Prints each rate, the ratio, and how many change events the
consoles received (proof that they were live).
Run: .venv/bin/python -m benchmarks.console_streams [--consoles 100] [--seconds 8] [--database-url ...]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import threading

import httpx
from tests.support.console_session import signed_in

from benchmarks.messages_http import cpu_seconds
from benchmarks.support import RunningServer, basic, machine, post_script, start_server, wrk


def prepare(server: RunningServer) -> tuple[tuple[str, str], dict[str, str]]:
    keys = json.loads(server.cli("accounts", "create", "--name", "bench", "--json"))
    key, secret = keys["access_key"], keys["secret_key"]
    server.cli("accounts", "set-limits", key, "--sms-per-second", "1000000", "--mms-per-second", "1000000")
    with httpx.Client(base_url=server.url, auth=(key, secret)) as client:
        number = client.get("/v2/numbers/available", params={"starts_with": "1206", "limit": 1}).json()["data"][0]["id"]
        client.post(f"/v2/numbers/{number}").raise_for_status()
    return (key, secret), {"to": "12065550100", "from": number, "body": "benchmark message"}


class Consoles:
    """`count` live streams of one console session, read in a thread of their own; reconnecting like
    a browser when the server ends one."""

    def __init__(self, url: str, cookies: httpx.Cookies, count: int) -> None:
        self.events = 0
        self.open = 0
        self._url, self._cookies, self._count = url, cookies, count
        self._stop = threading.Event()
        self._thread = threading.Thread(target=lambda: asyncio.run(self._run()), daemon=True)

    def __enter__(self) -> Consoles:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=60)

    async def _run(self) -> None:
        limits = httpx.Limits(max_connections=self._count + 10)
        async with httpx.AsyncClient(base_url=self._url, cookies=self._cookies, limits=limits, timeout=None) as client:
            readers = [asyncio.create_task(self._read(client)) for _ in range(self._count)]
            while not self._stop.is_set():
                await asyncio.sleep(0.1)
            for reader in readers:
                reader.cancel()
            await asyncio.gather(*readers, return_exceptions=True)

    async def _read(self, client: httpx.AsyncClient) -> None:
        while True:
            async with client.stream("GET", "/console/api/stream") as stream:
                self.open += 1
                async for line in stream.aiter_lines():
                    if line.startswith("event: change"):
                        self.events += 1
                self.open -= 1


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--consoles", type=int, default=100)
    parser.add_argument("--seconds", type=int, default=8)
    parser.add_argument("--database-url")
    options = parser.parse_args()
    env = {"TELROUTE_INVENTORY_PER_BLOCK": "2"}
    if options.database_url:
        env["TELROUTE_DATABASE_URL"] = options.database_url
    server = start_server(env)
    try:
        keys, body = prepare(server)
        script = post_script(body, basic(*keys))

        def sends() -> tuple[float, float]:
            """(accepted sends/s, server CPU milliseconds per send): the second holds steadier on a busy machine."""
            cpu = cpu_seconds(server.process.pid)
            result = wrk(f"{server.url}/v2.1/messages", seconds=options.seconds, script=script)
            return result.requests_per_second, 1000 * (cpu_seconds(server.process.pid) - cpu) / max(result.requests, 1)

        print(f"machine: {machine()}; database: {options.database_url or 'SQLite'}")
        before, cpu_before = sends()
        print(f"  no console open: {before:,.0f} sends/s, {cpu_before:.2f} ms server CPU per send")
        console = signed_in(server.url, keys)
        console.close()
        with Consoles(server.url, console.cookies, options.consoles) as open_:
            while open_.open < options.consoles:
                threading.Event().wait(0.05)
            during, cpu_during = sends()
            print(
                f"  {open_.open} consoles open: {during:,.0f} sends/s, {cpu_during:.2f} ms server CPU per send; "
                f"they received {open_.events:,} change events"
            )
        after, cpu_after = sends()
        print(f"  no console open again: {after:,.0f} sends/s, {cpu_after:.2f} ms server CPU per send")
        baseline, cpu_baseline = (before + after) / 2, (cpu_before + cpu_after) / 2
        print(
            f"  cost of {options.consoles} consoles: {100 * (1 - during / baseline):.1f}% of send throughput, "
            f"{100 * (cpu_during / cpu_baseline - 1):.1f}% more server CPU per send"
        )
    finally:
        server.stop()


if __name__ == "__main__":
    main()
