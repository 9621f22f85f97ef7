"""A server on SQLite while another process holds the database's write lock (a long `telroute inventory
import`, a `telroute worker` beside `serve --no-worker`): it keeps answering, and its writes wait for the lock
instead of stopping the server (`kit.db.SqliteDatabase._open_group`)."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from tests.e2e.conftest import Keys
from tests.support.databases import SQLITE_FILE
from tests.support.server import Server

pytestmark = pytest.mark.sqlite_only

HOLD = 2.0  # seconds the other process keeps the write lock
_HOLDER = """
import sqlite3, sys, time
connection = sqlite3.connect(sys.argv[1], isolation_level=None)
connection.execute("BEGIN IMMEDIATE")
print("held", flush=True)
time.sleep(float(sys.argv[2]))
connection.execute("ROLLBACK")
"""


def test_reads_go_on_and_a_purchase_waits_while_another_process_holds_the_write_lock(
    server: Server, api: httpx.Client, keys: Keys, buy: Callable[[httpx.Client, str], str]
) -> None:
    database = str(server.data_dir / SQLITE_FILE)
    command = [sys.executable, "-c", _HOLDER, database, str(HOLD)]
    with subprocess.Popen(command, stdout=subprocess.PIPE, text=True) as holder:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        started = time.monotonic()
        with server.client(keys) as buyer, ThreadPoolExecutor(1) as pool:
            purchase = pool.submit(buy, buyer, "1206")
            time.sleep(0.2)  # the purchase is waiting for the lock by now
            for _ in range(5):
                assert api.get("/healthz").status_code == 200
                assert api.get("/v2/numbers").status_code == 200
            reads_took = time.monotonic() - started
            assert not purchase.done()
            number = purchase.result(timeout=30)
        purchase_took = time.monotonic() - started
    assert reads_took < HOLD / 2, f"reads took {reads_took:.2f} s while the lock was held"
    assert purchase_took > HOLD * 0.8, f"the purchase took {purchase_took:.2f} s: it did not wait for the lock"
    assert number in [item["id"] for item in api.get("/v2/numbers").json()["data"]]
