"""Scale-out on PostgreSQL: two API processes and two workers on one database, one worker killed
mid-stream. Every accepted message reaches exactly one level-2 receipt and one level-2 DLR callback
(a callback re-sent after the kill carries the same `webhook-id`, so a receiver sees one event)."""

from __future__ import annotations

import signal
import subprocess
import sys
from collections import defaultdict
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest

from tests.support.callback_receiver import CallbackReceiver
from tests.support.isolated import Deployment, deployment, eventually
from tests.support.messaging import buy_number
from tests.support.server import Server

pytestmark = [pytest.mark.postgres_only, pytest.mark.slow]
ENV = {"TELROUTE_SIMULATOR_RECEIPT_DELAY": "0.3", "TELROUTE_JOB_LEASE_SECONDS": "5"}
MESSAGES = 2000


@pytest.fixture
def cluster(tmp_path: Path) -> Iterator[tuple[Deployment, list[Server], list[subprocess.Popen[bytes]]]]:
    with deployment(tmp_path) as deployed:
        apis = [deployed.server("--no-worker", **ENV) for _ in range(2)]
        workers: list[subprocess.Popen[bytes]] = []
        try:
            for api in apis:
                api.start()
            for _ in range(2):
                workers.append(
                    subprocess.Popen(
                        [sys.executable, "-m", "telroute", "worker"],
                        env=deployed.env(**ENV),
                        stdout=subprocess.DEVNULL,
                        stderr=subprocess.DEVNULL,
                    )
                )
            yield deployed, apis, workers
        finally:
            for worker in workers:
                worker.kill()
                worker.wait()
            for api in apis:
                api.kill()


class Level2Callbacks:
    """Level-2 DLR callbacks received: message id -> the distinct webhook-ids they came with. Each call reads
    only the callbacks that arrived since the last (parsing thousands at every poll cost more than the run)."""

    def __init__(self, receiver: CallbackReceiver) -> None:
        self._receiver = receiver
        self._read = 0
        self._found: dict[str, set[str]] = defaultdict(set)

    def __call__(self) -> dict[str, set[str]]:
        arrived = self._receiver.requests("/dlr")
        for request in arrived[self._read :]:
            document = httpx.Response(200, content=request.body).json()
            if document["data"]["attributes"]["level"] == 2:
                self._found[document["data"]["id"]].add(request.headers["webhook-id"])
        self._read = len(arrived)
        return self._found


def test_two_apis_two_workers_one_killed_nothing_lost_or_doubled(
    cluster: tuple[Deployment, list[Server], list[subprocess.Popen[bytes]]],
) -> None:
    deployed, apis, workers = cluster
    keys = deployed.new_account("scale", sms_per_second=100_000)
    with CallbackReceiver() as receiver, apis[0].client(keys) as setup:
        number = buy_number(setup, starts_with="206")
        assert (
            setup.put("/v2.1/messages/sms_dlr_callback", json={"callback_url": receiver.url("/dlr")}).status_code == 204
        )
        clients = [api.client(keys) for api in apis]
        try:

            def send(index: int) -> httpx.Response:
                if index == MESSAGES // 2:
                    workers[0].send_signal(signal.SIGKILL)
                body = {"to": "12065550100", "from": number, "body": f"scale {index}"}
                return clients[index % 2].post("/v2.1/messages", json=body)

            with ThreadPoolExecutor(32) as pool:
                responses = list(pool.map(send, range(MESSAGES)))
        finally:
            for client in clients:
                client.close()
        assert [response.status_code for response in responses] == [202] * MESSAGES
        accepted = {response.json()["data"]["id"] for response in responses}
        assert len(accepted) == MESSAGES

        level2_callbacks = Level2Callbacks(receiver)
        eventually(
            lambda: accepted <= set(level2_callbacks()),
            timeout=180,
            interval=0.5,
            what="a level-2 DLR for every message",
        )
        callbacks = level2_callbacks()
        assert {message: len(ids) for message, ids in callbacks.items() if len(ids) != 1} == {}
        rows = deployed.query(
            "SELECT m.public_id, COUNT(r.id) AS receipts FROM messages m "
            "LEFT JOIN receipts r ON r.message_id = m.id AND r.level = 2 "
            "WHERE m.direction = 'outbound' GROUP BY m.public_id"
        )
        receipts = {row["public_id"]: int(row["receipts"]) for row in rows}
        assert {message: count for message, count in receipts.items() if message in accepted and count != 1} == {}
        assert deployed.query("SELECT COUNT(*) AS n FROM failed_jobs")[0]["n"] == 0
    assert_positions_gapless_and_in_time_order(deployed)
    assert listed_through_both_apis(apis, keys) == accepted


def assert_positions_gapless_and_in_time_order(deployed: Deployment) -> None:
    """Inserts from two API processes number each account's messages 1..N, time never going backwards."""
    for row in deployed.query(
        "SELECT account_id, COUNT(*) AS n, COUNT(DISTINCT seq) AS distinct_seq, MIN(seq) AS low, MAX(seq) AS high "
        "FROM messages GROUP BY account_id"
    ):
        assert (row["distinct_seq"], row["low"], row["high"]) == (row["n"], 1, row["n"]), row
    backwards = deployed.query(
        "SELECT COUNT(*) AS n FROM messages a JOIN messages b ON b.account_id = a.account_id AND b.seq = a.seq + 1 "
        "WHERE b.created_at_us < a.created_at_us"
    )
    assert backwards[0]["n"] == 0


def listed_through_both_apis(apis: list[Server], keys: tuple[str, str]) -> set[str]:
    """The MDR list, page by page, each page from the other API process."""
    listed: list[str] = []
    for page in range(MESSAGES // 500 + 1):
        with apis[page % 2].client(keys) as client:
            params: dict[str, str | int] = {"start_date": "2000-01-01", "limit": 500, "offset": page * 500}
            listed += [item["id"] for item in client.get("/v2.1/messages", params=params).json()["data"]]
    assert len(listed) == len(set(listed)) == MESSAGES
    return set(listed)


def test_concurrent_purchases_across_api_processes_have_one_winner(
    cluster: tuple[Deployment, list[Server], list[subprocess.Popen[bytes]]],
) -> None:
    deployed, apis, _ = cluster
    buyers = [deployed.new_account(f"buyer{index}") for index in range(8)]
    with apis[0].client(buyers[0]) as client:
        number = client.get("/v2/numbers/available", params={"starts_with": "1212", "limit": 1}).json()["data"][0]["id"]

    def buy(index: int) -> int:
        with apis[index % 2].client(buyers[index % len(buyers)]) as client:
            return client.post(f"/v2/numbers/{number}").status_code

    with ThreadPoolExecutor(16) as pool:
        statuses = list(pool.map(buy, range(32)))
    assert sorted(statuses) == [201] + [404] * 31
    owners = deployed.query(
        "SELECT COUNT(*) AS n FROM numbers WHERE value = :v AND account_id IS NOT NULL", {"v": number}
    )
    assert owners[0]["n"] == 1
