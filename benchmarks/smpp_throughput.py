"""SMPP throughput: messages/s from `POST /v2.1/messages` to submit_sm_resp through one bind (window 10)
to the Node.js SMSC of the tests (tests/peers/smsc.js on the npm `smpp` package), and the ceilings of the
pieces measured alone.

Prints three figures, each over the same SMSC settings (a text delivery receipt for every message,
which travels back over the same bind):
  1. the SMSC's own ceiling: a tiny Node.js client on the same `smpp` package blasting submit_sm at it
     with 10 outstanding;
  2. telroute's SMPP client alone: `SmppCarrier.submit` in a loop with 10 outstanding (no HTTP, no
     database);
  3. end to end: `telroute serve` (API + worker in one process) with the SMSC added as the default
     carrier; wrk POSTs for N seconds, and the figure is messages accepted / time from the first POST
     until the SMSC has answered the last submit_sm. Also: when every message had its level-2 receipt.

Run: .venv/bin/python -m benchmarks.smpp_throughput [--database-url postgresql://...] [--seconds 10]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from benchmarks.support import ROOT, RunningServer, basic, machine, start_server, wrk
from telroute.carriers.smpp.carrier import SmppCarrier
from telroute.carriers.smpp.config import SmppLinkConfig
from telroute.kit import db as dbkit
from telroute.kit.db import sql
from telroute.messages.carrier_port import CarrierInbound, CarrierReceipt, OutboundMessage

SYSTEM_ID, PASSWORD = "telroute", "secret"
WINDOW = 10
WARM_UP = 200
NODE_CLIENT = r"""
const smpp = require('smpp');
const [port, total, window] = process.argv.slice(2).map(Number);
const session = smpp.connect(`smpp://127.0.0.1:${port}`);
session.on('deliver_sm', (pdu) => session.send(pdu.response()));
session.bind_transceiver({ system_id: process.env.SYSTEM_ID, password: process.env.PASSWORD }, (bound) => {
  if (bound.command_status !== 0) { console.error('bind refused'); process.exit(1); }
  let sent = 0, answered = 0, failed = 0;
  const started = process.hrtime.bigint();
  const next = () => {
    if (sent >= total) return;
    sent += 1;
    const fields = { source_addr: '12015550100', destination_addr: '13125550100',
      short_message: 'benchmark message', registered_delivery: 1 };
    session.submit_sm(fields, (resp) => {
      answered += 1;
      if (resp.command_status !== 0) failed += 1;
      if (answered === total) {
        const seconds = Number(process.hrtime.bigint() - started) / 1e9;
        console.log(JSON.stringify({ seconds, failed }));
        setTimeout(() => process.exit(0), 200);
      } else next();
    });
  };
  for (let i = 0; i < window; i++) next();
});
"""


class Smsc:
    """tests/peers/smsc.js, driven over its stdin/stdout JSON lines."""

    def __init__(self) -> None:
        modules = (
            subprocess.run([str(ROOT / "scripts" / "install-smpp-peer")], check=True, capture_output=True, text=True)
            .stdout.strip()
            .splitlines()[-1]
        )
        self.node_path = modules
        self.process = subprocess.Popen(
            ["node", str(ROOT / "tests" / "peers" / "smsc.js"), "--port", "0", "--system-id", SYSTEM_ID,
             "--password", PASSWORD],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
            env={**os.environ, "NODE_PATH": modules},
        )  # fmt: skip
        self._lock = threading.Lock()
        self.port = int(self._read()["listening"])

    def _read(self) -> dict[str, Any]:
        assert self.process.stdout is not None
        answer: dict[str, Any] = json.loads(self.process.stdout.readline())
        return answer

    def command(self, cmd: str, **fields: Any) -> dict[str, Any]:
        assert self.process.stdin is not None
        with self._lock:
            self.process.stdin.write(json.dumps({"cmd": cmd, **fields}) + "\n")
            self.process.stdin.flush()
            return self._read()

    def accepted(self) -> int:
        return int(self.command("stats")["accepted"])

    def close(self) -> None:
        assert self.process.stdin is not None
        self.process.stdin.close()
        self.process.wait(timeout=10)


@dataclass
class Figure:
    messages: int
    seconds: float

    @property
    def rate(self) -> float:
        return self.messages / self.seconds


def node_ceiling(smsc: Smsc, total: int) -> Figure:
    with tempfile.NamedTemporaryFile("w", suffix=".js", delete=False) as script:
        script.write(NODE_CLIENT)
    env = {**os.environ, "NODE_PATH": smsc.node_path, "SYSTEM_ID": SYSTEM_ID, "PASSWORD": PASSWORD}
    output = subprocess.run(
        ["node", script.name, str(smsc.port), str(total), str(WINDOW)], env=env, capture_output=True, text=True,
        check=True, timeout=600,
    ).stdout  # fmt: skip
    Path(script.name).unlink()
    result = json.loads(output.strip().splitlines()[-1])
    assert result["failed"] == 0, result
    return Figure(total, float(result["seconds"]))


class CountingEvents:
    def __init__(self) -> None:
        self.receipts = 0

    async def receipt(self, receipt: CarrierReceipt) -> None:
        self.receipts += 1

    async def inbound(self, message: CarrierInbound) -> None:
        return None


def client_ceiling(smsc: Smsc, total: int) -> Figure:
    async def run() -> Figure:
        config = SmppLinkConfig("bench", "127.0.0.1", smsc.port, SYSTEM_ID, PASSWORD, window=WINDOW)
        carrier = SmppCarrier(config)
        await carrier.start(CountingEvents())
        pending = list(range(total))

        async def lane() -> None:
            while pending:
                n = pending.pop()
                await carrier.submit(OutboundMessage(f"mdr2-{n}", "12015550100", "13125550100", "benchmark message"))

        started = time.perf_counter()
        await asyncio.gather(*(lane() for _ in range(WINDOW * 2)))  # more lanes than the window: it stays full
        seconds = time.perf_counter() - started
        await carrier.stop()
        return Figure(total, seconds)

    return asyncio.run(run())


def count_level2(database_url: str) -> int:
    async def run() -> int:
        database = await dbkit.connect(database_url, pool_size=1)
        try:
            return int(await database.fetchval(sql("SELECT COUNT(*) FROM receipts WHERE level = 2")))
        finally:
            await database.close()

    return asyncio.run(run())


def sender(server: RunningServer) -> tuple[str, dict[str, str]]:
    """A new account (rate limit raised) with a number of its own: its Authorization header and a body."""
    keys = json.loads(server.cli("accounts", "create", "--name", "bench", "--json"))
    key, secret = keys["access_key"], keys["secret_key"]
    server.cli("accounts", "set-limits", key, "--sms-per-second", "100000")
    with httpx.Client(base_url=server.url, auth=(key, secret)) as client:
        found = client.get("/v2/numbers/available", params={"starts_with": "1201", "limit": 1})
        number = found.json()["data"][0]["id"]
        client.post(f"/v2/numbers/{number}").raise_for_status()
    return basic(key, secret), {"to": "13125550100", "from": number, "body": "benchmark message"}


def rotating_post_script(senders: list[tuple[str, dict[str, str]]]) -> str:
    """wrk: POST /v2.1/messages as each sender in turn."""
    auths = ", ".join(json.dumps(auth) for auth, _ in senders)
    bodies = ", ".join(json.dumps(json.dumps(body)) for _, body in senders)
    return (
        f"local auths = {{{auths}}}\nlocal bodies = {{{bodies}}}\nlocal i = 0\n"
        "request = function()\n  i = i % #auths + 1\n"
        '  return wrk.format("POST", "/v2.1/messages", '
        '{["Content-Type"] = "application/json", ["Authorization"] = auths[i]}, bodies[i])\nend\n'
    )


def end_to_end(smsc: Smsc, seconds: int, database_url: str | None, accounts: int) -> None:
    env = {"TELROUTE_INVENTORY_PER_BLOCK": "2", "TELROUTE_LOG_FORMAT": "json"}
    if database_url:
        env["TELROUTE_DATABASE_URL"] = database_url
    server = start_server(env)
    url = database_url or f"sqlite:///{(server.data_dir / 'telroute.db').resolve()}"
    try:
        server.cli(
            "carriers", "add", "bench", "--kind", "smpp", "--host", "127.0.0.1", "--port", str(smsc.port),
            "--system-id", SYSTEM_ID, "--password", PASSWORD, "--window", str(WINDOW), "--default",
        )  # fmt: skip
        senders = [sender(server) for _ in range(accounts)]
        deadline = time.monotonic() + 30
        while not json.loads(server.cli("carriers", "status", "--json"))[0]["bound"]:
            if time.monotonic() > deadline:
                raise RuntimeError("the link did not bind")
            time.sleep(0.2)
        base = smsc.accepted()
        auth, body = senders[0]
        with httpx.Client(base_url=server.url, headers={"Authorization": auth}) as client:
            for _ in range(WARM_UP):
                client.post("/v2.1/messages", json=body).raise_for_status()
        while smsc.accepted() < base + WARM_UP:
            time.sleep(0.05)
        script = rotating_post_script(senders)
        base = smsc.accepted()
        started = time.monotonic()
        sends = wrk(f"{server.url}/v2.1/messages", seconds=seconds, connections=16, script=script)
        posted_for = time.monotonic() - started
        accepted = sends.requests - sends.non_2xx
        at_end_of_posting = smsc.accepted() - base
        while smsc.accepted() - base < accepted:
            if time.monotonic() - started > 600:
                raise RuntimeError("the SMSC did not get every message")
            time.sleep(0.01)
        submitted = time.monotonic() - started
        expected = accepted + WARM_UP
        while count_level2(url) < expected:
            if time.monotonic() - started > 900:
                break
            time.sleep(0.1)
        receipted = time.monotonic() - started
        print(
            f"3. end to end, POST -> submit_sm_resp through one bind (window {WINDOW}), "
            f"{'PostgreSQL' if database_url else 'SQLite'}, {accounts} sending account(s): "
            f"{accepted / submitted:,.0f} messages/s "
            f"({accepted:,} messages in {submitted:.1f} s)"
        )
        print(
            f"   POST accepted {sends.requests_per_second:,.0f}/s for {posted_for:.1f} s (p50 {sends.p50_ms:.1f} ms, "
            f"p99 {sends.p99_ms:.1f} ms, non-2xx {sends.non_2xx}); the SMSC had answered "
            f"{at_end_of_posting / posted_for:,.0f} submit_sm/s meanwhile"
        )
        rate = expected / receipted
        print(f"   every message had its level-2 receipt {receipted:.1f} s after the first POST ({rate:,.0f}/s)")
        print(f"   server RSS {server.rss_mb():.0f} MB")
    finally:
        server.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database-url")
    parser.add_argument("--seconds", type=int, default=10, help="how long wrk POSTs")
    parser.add_argument("--messages", type=int, default=20_000, help="messages of each ceiling run")
    parser.add_argument(
        "--accounts",
        type=int,
        default=1,
        help="send as N accounts in turn (each account's sends take its rate-limit row)",
    )
    options = parser.parse_args()
    node = subprocess.run(["node", "--version"], capture_output=True, text=True).stdout.strip()
    print(f"machine: {machine()}; node {node}")
    smsc = Smsc()
    try:
        ceiling = node_ceiling(smsc, options.messages)
        print(
            f"1. the SMSC alone (Node.js `smpp` client, window {WINDOW}): {ceiling.rate:,.0f} submit_sm/s "
            f"({ceiling.messages:,} in {ceiling.seconds:.1f} s)"
        )
        client = client_ceiling(smsc, options.messages)
        print(
            f"2. telroute's SMPP client alone (SmppCarrier.submit, window {WINDOW}): {client.rate:,.0f} messages/s "
            f"({client.messages:,} in {client.seconds:.1f} s)"
        )
        end_to_end(smsc, options.seconds, options.database_url, options.accounts)
    finally:
        smsc.close()
    sys.stdout.flush()


if __name__ == "__main__":
    main()
