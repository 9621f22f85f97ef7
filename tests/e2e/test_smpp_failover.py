"""An SMPP link across several worker processes (issue 5): one API process (`serve --no-worker`) and two
`telroute worker`s on one database. Exactly one worker binds the link; SIGKILL it in the middle of a
stream and the other binds once the lease lapses (15 s), and every message still reaches exactly one
level-2 receipt and one level-2 DLR callback, receipts for the dead worker's submits included.
"""

from __future__ import annotations

import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.test_smpp import PEER_DEFAULTS, Sender, buy_number, eventually, level2, node_path, smsc
from tests.support import loopback
from tests.support.smpp_site import PASSWORD, SYSTEM_ID, Site, running_site

__all__ = ["node_path"]  # the fixture, shared with test_smpp.py


@pytest.fixture
def site(tmp_path: Path) -> Iterator[Site]:
    with running_site(tmp_path) as running:
        yield running


class Workers:
    def __init__(self, site: Site) -> None:
        self.site = site
        self.processes: list[subprocess.Popen[bytes]] = []

    def start(self) -> subprocess.Popen[bytes]:
        log = (self.site.data_dir / f"worker-{len(self.processes)}.log").open("w")
        process = subprocess.Popen(
            [sys.executable, "-m", "telroute", "worker"], env=self.site.env(), stdout=log, stderr=subprocess.STDOUT
        )
        log.close()
        self.processes.append(process)
        return process

    def by_holder(self, holder: str) -> subprocess.Popen[bytes]:
        [process] = [p for p in self.processes if holder == f"{socket.gethostname()}:{p.pid}"]
        return process

    def kill_all(self) -> None:
        for process in self.processes:
            if process.poll() is None:
                process.kill()
            process.wait(timeout=10)


@pytest.fixture
def workers(site: Site) -> Iterator[Workers]:
    running = Workers(site)
    yield running
    running.kill_all()
    for log in [*sorted(site.data_dir.glob("worker-*.log")), *sorted(site.data_dir.glob("server-*.log"))]:
        print(f"--- {log.name} (pytest shows it when the test failed)\n{log.read_text()[-30_000:]}")


def holder_of(site: Site, carrier: str) -> str | None:
    rows = site.query(
        "SELECT holder, state, expires_at_us FROM carrier_leases WHERE carrier = :c AND state = 'bound'",
        {"c": carrier},
    )
    return str(rows[0]["holder"]) if rows and rows[0]["expires_at_us"] > time.time() * 1e6 else None


def test_one_worker_binds_and_another_takes_over_when_it_is_killed(
    site: Site, workers: Workers, node_path: str
) -> None:
    with smsc(node_path) as peer:
        peer.config(**{**PEER_DEFAULTS, "id_format": "hex", "id_pad": 8, "dlr_id_format": "dec"})
        site.server("--no-worker").start()
        site.cli(
            "carriers", "add", "primary", "--host", "127.0.0.1", "--port", str(peer.port), "--system-id", SYSTEM_ID,
            "--password", PASSWORD, "--default",
        )  # fmt: skip
        workers.start(), workers.start()
        holder = eventually(lambda: holder_of(site, "primary"), timeout=30, what="a worker bound")
        with loopback.client(base_url=site.api.url, auth=site.account(), timeout=30) as client:
            sender = Sender(site, client, buy_number(client))
            first = [sender.send(f"first {n}") for n in range(10)]
            sender.final(first)
            stats = peer.stats()
            assert (stats["binds"], stats["bound_sessions"]) == (1, 1)  # both workers refreshed meanwhile
            killed = workers.by_holder(holder)

            peer.config(response_delay_ms=20, dlr_delay_ms=1500)
            accepted = peer.stats()["accepted"]
            stream = [sender.send(f"stream {n}") for n in range(40)]
            eventually(lambda: peer.stats()["accepted"] >= accepted + 10, what="some of the stream submitted")
            killed.send_signal(signal.SIGKILL)
            killed.wait(timeout=10)
            killed_at = time.monotonic()
            # Its claimed jobs would be due again after their 60 s job lease: make them due now
            site.query(
                "UPDATE jobs SET run_at_us = 0 WHERE locked_by = :holder AND run_at_us > 0 RETURNING id",
                {"holder": holder},
            )
            successor = eventually(
                lambda: current if (current := holder_of(site, "primary")) != holder else None,
                timeout=30,
                what="the takeover",
            )
            assert time.monotonic() - killed_at > 5  # not before the dead worker's lease lapsed
            records = sender.final(first + stream, timeout=60)
            assert {m: (r["status"], len(level2(r))) for m, r in records.items()} == dict.fromkeys(
                first + stream, ("delivered", 1)
            )
            assert sender.level2_callbacks(first + stream) == dict.fromkeys(first + stream, 1)
            assert all([r["level"] for r in record["delivery_receipts"]].count(1) == 1 for record in records.values())
        stats = peer.stats()
        assert (stats["binds"], stats["bound_sessions"]) == (2, 1)
        survivor = workers.by_holder(successor)
        survivor.send_signal(signal.SIGTERM)
        assert survivor.wait(timeout=20) == 0
        assert peer.stats()["unbinds"] == 1  # the graceful stop unbound; the killed worker could not
