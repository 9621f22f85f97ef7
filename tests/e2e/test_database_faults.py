"""The database fails under load, then comes back: PostgreSQL restarted (and crashed), SQLite's disk full.

A real `telroute serve` (API and worker) takes a steady stream of sends from a few clients while the test
breaks its database. While it is broken every send gets a JSON:API 503 (never a 500, never an answer later
than `ANSWER_TIMEOUT`); once it is back the server serves again by itself, and every message that got a 202
exists, is delivered with two receipts, and its level-2 DLR reaches the customer. The checks after the
fault are those of the crash tests (`tests/e2e/test_crash.py`).
"""

from __future__ import annotations

import sqlite3
import time
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.e2e.test_crash import ENV, dlr_counts, prepare_sender, statuses
from tests.support.callback_receiver import CallbackReceiver
from tests.support.isolated import Deployment, eventually
from tests.support.private_postgres import private_postgres
from tests.support.send_load import ANSWER_TIMEOUT, SendLoad
from tests.support.server import Server
from tests.support.small_disk import fill, small_disk

OUTAGE = 2.0  # how long each fault lasts once the first 503 is seen
STREAM = 20  # sends that must get a 202 before a fault, and again after it


@pytest.fixture
def receiver() -> Iterator[CallbackReceiver]:
    with CallbackReceiver() as running:
        yield running


def ride_out(load: SendLoad, fault: Callable[[], None], repair: Callable[[], None], what: str) -> float:
    """Let `STREAM` sends through, break the database with `fault` until sends get 503s for `OUTAGE` s, then
    `repair` it and wait for `STREAM` more 202s. How long after the repair the first 202 came."""
    eventually(lambda: load.count(202) >= STREAM, timeout=30, what=f"{STREAM} sends accepted before {what}")
    refused = load.count(503)
    fault()
    eventually(lambda: load.count(503) > refused, timeout=30, what=f"a 503 while {what}")
    time.sleep(OUTAGE)
    repaired_at, accepted = time.monotonic(), load.count(202)
    repair()
    eventually(lambda: load.count(202) > accepted, timeout=30, interval=0.01, what=f"a 202 after {what}")
    recovered_in = time.monotonic() - repaired_at
    eventually(lambda: load.count(202) >= accepted + STREAM, timeout=30, what=f"the stream going on after {what}")
    return recovered_in


def assert_nothing_lost(server: Server, keys: tuple[str, str], load: SendLoad, receiver: CallbackReceiver) -> None:
    """Every 202'd message is delivered with two receipts and its level-2 DLR arrived; the customer saw only
    202s and JSON:API 503s, none later than the bound."""
    assert load.unexpected == [], load.summary()
    assert load.slowest < ANSWER_TIMEOUT, load.summary()

    def delivered() -> dict[str, tuple[str, list[int]]] | None:
        found = statuses(server, keys)
        done = all(status == "delivered" and levels == [2, 1] for status, levels in found.values())
        return found if done and set(load.accepted) <= set(found) else None

    try:
        eventually(delivered, timeout=60, interval=0.5, what="every accepted message delivered with two receipts")
    except AssertionError as exc:
        found = statuses(server, keys)
        states = Counter((status, tuple(levels)) for status, levels in found.values())
        missing = len(set(load.accepted) - set(found))
        raise AssertionError(f"{exc}: {missing} accepted messages missing; states {dict(states)}") from exc
    eventually(
        lambda: {(message_id, 2) for message_id in load.accepted} <= set(dlr_counts(receiver.requests("/dlr"))),
        timeout=60,
        interval=0.2,
        what="the level-2 DLR of every accepted message",
    )


@pytest.mark.postgres_only
def test_postgresql_restarted_and_crashed_under_load(tmp_path: Path, receiver: CallbackReceiver) -> None:
    with private_postgres() as cluster:
        deployed = Deployment(tmp_path, cluster.url)
        server = deployed.server(**ENV).start()
        try:
            keys, sender = prepare_sender(deployed, server, receiver)
            with SendLoad(server.url, keys, sender) as load:
                restart = ride_out(load, cluster.stop, cluster.start, "PostgreSQL is restarted (-m fast)")
                crash = ride_out(
                    load, lambda: cluster.stop("immediate"), cluster.start, "PostgreSQL crashed (-m immediate)"
                )
            print(f"\n{load.summary()}; first 202 {restart:.2f} s after the restart, {crash:.2f} s after the crash")
            assert_nothing_lost(server, keys, load, receiver)
            assert server.terminate() == 0
            assert_quiet_outage(server)
        finally:
            server.kill()


@pytest.mark.sqlite_only
def test_sqlite_disk_full_under_load(tmp_path: Path, receiver: CallbackReceiver) -> None:
    with small_disk(tmp_path / "disk", size_mb=64) as disk:
        deployed = Deployment(disk, f"sqlite:///{disk / 'telroute.db'}")
        server = deployed.server(**ENV)
        server.log_dir = tmp_path  # the server's output must not need the disk the test fills
        server.start()
        filler = disk / "filler"
        try:
            keys, sender = prepare_sender(deployed, server, receiver)
            with SendLoad(server.url, keys, sender) as load:
                recovered = ride_out(load, lambda: fill_up(disk), filler.unlink, "the disk is full")
            print(f"\n{load.summary()}; first 202 {recovered:.2f} s after space was freed")
            assert_nothing_lost(server, keys, load, receiver)
            assert server.terminate() == 0
            assert_quiet_outage(server)
        finally:
            server.kill()
        with sqlite3.connect(disk / "telroute.db") as database:
            assert database.execute("PRAGMA integrity_check").fetchone() == ("ok",)


def assert_quiet_outage(server: Server) -> None:
    """While the database is away the worker polls it less and less often and says so once in a while, not
    twenty times a second."""
    failed_claims = server.output().count("claim failed")
    assert 1 <= failed_claims <= 10, failed_claims


def fill_up(disk: Path) -> None:
    fill(disk)
