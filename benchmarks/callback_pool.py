"""Callbacks to a small threaded receiver: how many connections it sees and how many callbacks arrive twice,
with the per-receiver pool at its default (16) and opened up to the worker's job concurrency (200, what
telroute did before the pool).

The receiver accepts every connection but handles 4 requests at a time, 0.2 s each (20 a second), like a
small app server with 4 worker threads. A burst of callbacks is enqueued at once into one `telroute serve`;
the run ends when no callback job is left. A callback the receiver handled after telroute had given up
waiting for it (the 10 s timeout) is sent again: that is how it arrives twice.

Run: .venv/bin/python -m benchmarks.callback_pool [--callbacks 500] [--pools 16,200]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import threading
import time
from collections import Counter
from http.server import BaseHTTPRequestHandler, HTTPServer
from socketserver import ThreadingMixIn
from typing import Any

from benchmarks.support import RunningServer, machine, start_server
from telroute.kit import db as dbkit
from telroute.kit.clock import system_clock
from telroute.kit.db import sql
from telroute.webhooks import service as webhooks_service

HANDLERS = 4
SECONDS_PER_REQUEST = 0.2


class SmallReceiver(ThreadingMixIn, HTTPServer):
    daemon_threads = True
    request_queue_size = 128

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _handler_class(self))
        self.lock = threading.Lock()
        self.handlers = threading.Semaphore(HANDLERS)
        self.handled: Counter[str] = Counter()
        self.open = 0
        self.max_open = 0
        self.opened = 0

    def connection_opened(self) -> None:
        with self.lock:
            self.open += 1
            self.opened += 1
            self.max_open = max(self.max_open, self.open)

    def connection_closed(self) -> None:
        with self.lock:
            self.open -= 1


def _handler_class(receiver: SmallReceiver) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def setup(self) -> None:
            super().setup()
            receiver.connection_opened()

        def finish(self) -> None:
            receiver.connection_closed()
            super().finish()

        def do_POST(self) -> None:
            self.rfile.read(int(self.headers.get("Content-Length") or 0))
            with receiver.handlers:
                time.sleep(SECONDS_PER_REQUEST)
                with receiver.lock:
                    receiver.handled[self.headers["webhook-id"]] += 1
            self.send_response(200)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:
            return None

    return Handler


async def _enqueue(database_url: str, url: str, count: int) -> None:
    database = await dbkit.connect(database_url, pool_size=1)
    try:
        account_id = await database.fetchval(sql("SELECT MIN(id) FROM accounts"))
        async with database.transaction() as connection:
            for index in range(count):
                await webhooks_service.enqueue(
                    connection,
                    account_id=int(account_id),
                    event="dlr",
                    url=url,
                    message_public_id=f"mdr2-bench-{index}",
                    document={"data": {"type": "delivery_receipt", "id": f"mdr2-bench-{index}"}},
                    now=system_clock(),
                )
    finally:
        await database.close()


async def _jobs_left(database_url: str) -> tuple[int, int]:
    database = await dbkit.connect(database_url, pool_size=1)
    try:
        left = await database.fetchval(sql("SELECT COUNT(*) FROM jobs"))
        failed = await database.fetchval(sql("SELECT COUNT(*) FROM webhook_attempts WHERE error IS NOT NULL"))
        return int(left), int(failed)
    finally:
        await database.close()


def run(pool: int, callbacks: int) -> dict[str, Any]:
    server: RunningServer = start_server(
        {
            "TELROUTE_WEBHOOK_CONNECTIONS": str(pool),
            "TELROUTE_WEBHOOK_BACKOFF": "1,1,1,1,1",
            "TELROUTE_INVENTORY_PER_BLOCK": "2",
        }
    )
    receiver = SmallReceiver()
    threading.Thread(target=receiver.serve_forever, daemon=True).start()
    database_url = f"sqlite:///{(server.data_dir / 'telroute.db').resolve()}"
    try:
        began = time.monotonic()
        asyncio.run(_enqueue(database_url, f"http://127.0.0.1:{receiver.server_address[1]}/dlr", callbacks))
        while (state := asyncio.run(_jobs_left(database_url)))[0] > 0:
            time.sleep(0.5)
        elapsed = time.monotonic() - began
    finally:
        server.stop()
        receiver.shutdown()
    return {
        "pool": pool,
        "callbacks": callbacks,
        "seconds": round(elapsed, 1),
        "handled": sum(receiver.handled.values()),
        "handled twice or more": sum(1 for count in receiver.handled.values() if count > 1),
        "never handled": callbacks - len(receiver.handled),
        "failed tries (timeouts)": state[1],
        "most connections open at once": receiver.max_open,
        "connections opened": receiver.opened,
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--callbacks", type=int, default=500)
    parser.add_argument("--pools", default="16,200")
    options = parser.parse_args()
    print(f"# {machine()}; receiver: {HANDLERS} handlers, {SECONDS_PER_REQUEST} s a request")
    for pool in (int(item) for item in options.pools.split(",")):
        print(json.dumps(run(pool, options.callbacks)))


if __name__ == "__main__":
    main()
