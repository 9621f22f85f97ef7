"""A deployment of its own for the SMPP end-to-end tests (tests/e2e/test_smpp*.py): a data dir and a database
no other test sees (carrier links and routes are global), the `telroute` servers started on it, and the
customer's callback endpoint.

    with running_site(data_dir) as site:
        site.server().start()
        site.cli("carriers", "add", ...)
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from telroute.accounts import service as accounts_service
from telroute.kit import db as dbkit
from telroute.kit.clock import system_clock
from telroute.kit.db import sql
from tests.support.isolated import copied_database_url
from tests.support.server import Server, base_env, run_cli

Keys = tuple[str, str]
SYSTEM_ID, PASSWORD = "telroute", "Pw-e2e7"  # the SMSC's credentials; the password must never appear in any output


class Callbacks:
    """Records the JSON of every POST on 127.0.0.1 and answers 200."""

    def __init__(self) -> None:
        self._condition = threading.Condition()
        self.posts: list[tuple[str, Any]] = []
        record = self._record

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("content-length") or 0))
                record(self.path, json.loads(body))
                self.send_response(200)
                self.send_header("content-length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                return None

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.request_queue_size = 256
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05})
        self._thread.start()

    def _record(self, path: str, document: Any) -> None:
        with self._condition:
            self.posts.append((path, document))

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}{path}"

    def documents(self, path: str) -> list[Any]:
        with self._condition:
            return [document for where, document in self.posts if where == path]

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=10)


@dataclass
class Site:
    data_dir: Path
    database_url: str
    callbacks: Callbacks
    servers: list[Server] = field(default_factory=list)

    def env(self) -> dict[str, str]:
        return base_env(self.data_dir, TELROUTE_DATABASE_URL=self.database_url)

    def server(self, *args: str) -> Server:
        running = Server(self.data_dir, args=args, env_extra={"TELROUTE_DATABASE_URL": self.database_url})
        self.servers.append(running)
        return running

    @property
    def api(self) -> Server:
        return self.servers[0]

    def cli(self, *args: str, ok: bool = True) -> subprocess.CompletedProcess[str]:
        result = run_cli(self.data_dir, *args, env=self.env(), check=False)
        assert PASSWORD not in result.stdout + result.stderr
        if ok:
            assert result.returncode == 0, f"telroute {' '.join(args)}: {result.stdout}{result.stderr}"
        return result

    def status(self) -> dict[str, dict[str, Any]]:
        """`telroute carriers status --json`, by carrier name."""
        return {item["name"]: item for item in json.loads(self.cli("carriers", "status", "--json").stdout)}

    def link(self, carrier: str) -> dict[str, Any]:
        """What the link's holder last wrote in its lease row (cheaper to poll than the CLI)."""
        rows = self.query("SELECT state, stats FROM carrier_leases WHERE carrier = :c", {"c": carrier})
        return {"state": rows[0]["state"], **json.loads(rows[0]["stats"])} if rows else {"state": None}

    def reported_at(self, carrier: str) -> int:
        rows = self.query("SELECT updated_at_us FROM carrier_leases WHERE carrier = :c", {"c": carrier})
        return int(rows[0]["updated_at_us"]) if rows else 0

    def query(self, statement: str, params: dict[str, Any] | None = None) -> list[dict[str, Any]]:
        async def run() -> list[dict[str, Any]]:
            database = await dbkit.connect(self.database_url, pool_size=1)
            try:
                return [dict(row) for row in await database.fetch(sql(statement), params)]
            finally:
                await database.close()

        return asyncio.run(run())

    def account(self) -> Keys:
        async def create() -> Keys:
            database = await dbkit.connect(self.database_url, pool_size=1)
            try:
                async with database.transaction() as connection:
                    keys = await accounts_service.create(connection, "smpp", now=system_clock())
                    await accounts_service.set_limits(connection, keys.access_key, 100_000, None)
            finally:
                await database.close()
            return keys.access_key, keys.secret_key

        return asyncio.run(create())


@contextmanager
def running_site(data_dir: Path) -> Iterator[Site]:
    """A site on `data_dir` and a database of its own; on exit its servers are killed and the database dropped."""
    with copied_database_url(data_dir, seeded=True) as url:
        callbacks = Callbacks()
        site = Site(data_dir, url, callbacks)
        try:
            yield site
        finally:
            for server in site.servers:
                server.kill()
            callbacks.close()
