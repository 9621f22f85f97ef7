"""Nothing lost: a real `telroute serve` is killed (SIGKILL) or stopped (SIGTERM) while sends, deliveries
and callbacks are in flight, then started again on the same data dir. Every message that got a 202 is
delivered and its level-2 DLR reaches the customer; a callback in flight is delivered after the restart.

After a SIGKILL the dead server's claimed jobs wait for their lease (`job_lease_seconds`, 60 s) to lapse;
the tests make those leases lapse at once (`Deployment.lapse_leases_of`) instead of sleeping a minute.
"""

from __future__ import annotations

import signal
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest

from tests.support.callback_receiver import CallbackReceiver
from tests.support.isolated import Deployment, deployment, eventually
from tests.support.messaging import buy_number
from tests.support.receiver import Recorded
from tests.support.server import Server

pytestmark = pytest.mark.slow
ENV = {"TELROUTE_WEBHOOK_BACKOFF": "0.2,0.2,0.2,0.2,0.2", "TELROUTE_SIMULATOR_RECEIPT_DELAY": "0.3"}
Keys = tuple[str, str]


@dataclass
class Burst:
    """The outcome of a burst of concurrent sends: who got a 202, who got nothing."""

    accepted: dict[str, str] = field(default_factory=dict)  # message id -> to
    refused: list[str] = field(default_factory=list)  # any other answer, or none
    lock: threading.Lock = field(default_factory=threading.Lock)


def send_burst(
    server: Server, keys: Keys, number: str, count: int, *, stop_after: int, stop: Callable[[], None], workers: int = 16
) -> Burst:
    """POST `count` SMS from `workers` threads; when `stop_after` of them got a 202, call `stop()` once."""
    burst = Burst()
    stopped = threading.Event()

    def one(index: int, client: httpx.Client) -> None:
        to = f"1206555{2000 + index:04d}"
        try:
            response = client.post("/v2.1/messages", json={"from": number, "to": to, "body": f"burst {index}"})
        except httpx.TransportError:
            with burst.lock:
                burst.refused.append(to)
            return
        with burst.lock:
            if response.status_code == 202:
                burst.accepted[response.json()["data"]["id"]] = to
            else:
                burst.refused.append(to)
            reached = len(burst.accepted) >= stop_after and not stopped.is_set()
            if reached:
                stopped.set()
        if reached:
            stop()

    limits = httpx.Limits(max_connections=workers, max_keepalive_connections=workers)
    with (
        httpx.Client(base_url=server.url, auth=keys, timeout=30.0, limits=limits) as client,
        ThreadPoolExecutor(max_workers=workers) as pool,
    ):
        for future in [pool.submit(one, index, client) for index in range(count)]:
            future.result()
    assert stopped.is_set(), f"only {len(burst.accepted)} of {count} sends were accepted"
    return burst


def prepare_account(
    deployed: Deployment, server: Server, receiver: CallbackReceiver, callback_path: str
) -> tuple[Keys, str]:
    keys = deployed.create_account("crash")
    deployed.cli("accounts", "set-limits", keys[0], "--sms-per-second", "10000", "--mms-per-second", "1000")
    with server.client(keys) as client:
        number = buy_number(client, starts_with="206")
        response = client.put("/v2.1/messages/sms_dlr_callback", json={"callback_url": receiver.url(callback_path)})
        assert response.status_code == 204, response.text
    return keys, number


def statuses(server: Server, keys: Keys) -> dict[str, tuple[str, list[int]]]:
    """Every MDR of the account: id -> (status, receipt levels newest first)."""
    with server.client(keys) as client:
        response = client.get("/v2.1/messages", params={"start_date": "2000-01-01", "limit": 1000})
    assert response.status_code == 200, response.text
    return {
        item["id"]: (
            item["attributes"]["status"],
            [receipt["level"] for receipt in item["attributes"]["delivery_receipts"]],
        )
        for item in response.json()["data"]
    }


def dlr_counts(requests: list[Recorded]) -> Counter[tuple[str, int]]:
    counts: Counter[tuple[str, int]] = Counter()
    for item in requests:
        data = item.json()["data"]
        counts[(data["id"], data["attributes"]["level"])] += 1
    return counts


def queue(deployed: Deployment) -> dict[str, int]:
    rows = deployed.query("SELECT kind, COUNT(*) AS n FROM jobs GROUP BY kind")
    return {row["kind"]: int(row["n"]) for row in rows}


def table_count(deployed: Deployment, table: str) -> int:
    return int(deployed.query(f"SELECT COUNT(*) AS n FROM {table}")[0]["n"])


@pytest.fixture
def receiver() -> Iterator[CallbackReceiver]:
    with CallbackReceiver() as running:
        yield running


def test_sigkill_mid_stream_loses_no_accepted_message(tmp_path: Path, receiver: CallbackReceiver) -> None:
    total = 300
    with deployment(tmp_path) as deployed:
        first = deployed.server(**ENV).start()
        second: Server | None = None
        try:
            keys, number = prepare_account(deployed, first, receiver, "/dlr")
            receiver.answer("/dlr", delay=0.01)  # callbacks take a moment, so some are in flight at the kill
            burst = send_burst(first, keys, number, total, stop_after=total // 2, stop=first.kill)
            assert first.process is not None and first.process.returncode == -signal.SIGKILL
            before_restart = len(receiver.requests("/dlr"))
            lapsed = deployed.lapse_leases_of(first)
            second = deployed.server(**ENV).start()

            def settled() -> dict[str, tuple[str, list[int]]] | None:
                found = statuses(second, keys)
                done = all(status == "delivered" and levels == [2, 1] for status, levels in found.values())
                return found if done and set(burst.accepted) <= set(found) else None

            records = eventually(settled, timeout=60, interval=0.2, what="every MDR delivered with two receipts")
            wanted = {(message_id, level) for message_id in records for level in (1, 2)}
            counts = eventually(
                lambda: found if wanted <= set(found := dlr_counts(receiver.requests("/dlr"))) else None,
                timeout=60,
                what="a level-1 and a level-2 DLR for every message",
            )
            eventually(
                lambda: not {"deliver_message", "deliver_webhook"} & set(queue(deployed)),
                what="no delivery or callback job left",
            )
            duplicates = sum(count - 1 for count in counts.values())
            print(
                f"\nSIGKILL after {len(burst.accepted)} accepted of {total} sends ({len(burst.refused)} got no 202); "
                f"{before_restart} DLRs had arrived; {lapsed['deliver_webhook']} callback jobs and "
                f"{lapsed['deliver_message']} deliveries were leased by the dead server; "
                f"{len(records)} MDRs exist; {sum(counts.values())} DLRs received, {duplicates} duplicates"
            )
            assert set(counts) == wanted  # no DLR for a message that does not exist
            # A duplicate is a callback POSTed before the kill whose success was not yet committed: its job
            # was leased by the dead server. Nothing else may repeat.
            assert duplicates <= lapsed["deliver_webhook"]
            assert len(records) >= len(burst.accepted)  # a send can commit and lose its 202 in the kill
            assert len(records) <= total
            assert table_count(deployed, "failed_jobs") == 0
            assert table_count(deployed, "webhook_dead_letters") == 0
            assert second.terminate() == 0
        finally:
            first.kill()
            if second is not None:
                second.kill()


def test_callbacks_in_flight_at_a_kill_are_delivered_after_the_restart(
    tmp_path: Path, receiver: CallbackReceiver
) -> None:
    env = {**ENV, "TELROUTE_WEBHOOK_BACKOFF": "3,3,3,3,3", "TELROUTE_SIMULATOR_RECEIPT_DELAY": "0.1"}
    with deployment(tmp_path) as deployed:
        first = deployed.server(**env).start()
        second: Server | None = None
        try:
            keys = deployed.new_account("in-flight", sms_per_second=100)
            with first.client(keys) as client:
                sender = buy_number(client, starts_with="206")
                owned = buy_number(client, starts_with="206")
                response = client.put("/v2.1/messages/sms_dlr_callback", json={"callback_url": receiver.url("/slow")})
                assert response.status_code == 204
                response = client.put("/v2.1/messages/sms_callback", json={"callback_url": receiver.url("/erroring")})
                assert response.status_code == 204
                receiver.answer("/slow", delay=120)  # the customer hangs: these callbacks are in flight at the kill
                receiver.answer("/erroring", 500)  # the customer fails: these wait for their next try
                sent = [
                    client.post("/v2.1/messages", json={"from": sender, "to": f"1425555{3000 + i:04d}", "body": "x"})
                    for i in range(5)
                ]
                message_ids = {response.json()["data"]["id"] for response in sent}
                token = deployed.admin_token()
                inbound_ids = set()
                for index in range(3):
                    injected = httpx.post(
                        f"{first.url}/sandbox/inbound",
                        json={"from": "12065550123", "to": owned, "body": f"in {index}"},
                        headers={"Authorization": f"Bearer {token}"},
                    )
                    assert injected.status_code == 202, injected.text
                    inbound_ids.add(injected.json()["data"]["id"])
            receiver.wait_until(
                lambda requests: len([item for item in requests if item.path == "/slow"]) == 10,
                timeout=15,
                what="level 1 and level 2 of each message, all hanging",
            )
            receiver.wait_until(
                lambda requests: len([item for item in requests if item.path == "/erroring"]) == 3,
                timeout=15,
                what="the first try of each inbound callback",
            )
            eventually(lambda: table_count(deployed, "webhook_attempts") == 3, what="the three failures recorded")
            first.kill()
            killed_at = time.monotonic()
            receiver.answer("/slow")
            receiver.answer("/erroring")
            lapsed = deployed.lapse_leases_of(first)
            assert lapsed == Counter({"deliver_webhook": 10})  # the hanging ones; the failed ones wait to retry
            second = deployed.server(**env).start()

            def after_kill(path: str) -> set[tuple[str, int | None]]:
                return {
                    (item.json()["data"]["id"], item.json()["data"]["attributes"].get("level"))
                    for item in receiver.requests(path)
                    if item.received_at > killed_at
                }

            wanted_dlrs = {(message_id, level) for message_id in message_ids for level in (1, 2)}
            eventually(lambda: after_kill("/slow") >= wanted_dlrs, what="every hanging DLR delivered again")
            wanted_inbound = {(message_id, None) for message_id in inbound_ids}
            eventually(lambda: after_kill("/erroring") >= wanted_inbound, timeout=20, what="every inbound retried")
            eventually(lambda: "deliver_webhook" not in queue(deployed), what="no callback job left")
            rows = deployed.query("SELECT message_public_id, status_code FROM webhook_attempts WHERE status_code = 200")
            assert Counter(row["message_public_id"] for row in rows) == Counter(
                [*[message_id for message_id in message_ids for _ in (1, 2)], *inbound_ids]
            )
            assert table_count(deployed, "webhook_dead_letters") == 0
            assert table_count(deployed, "failed_jobs") == 0
            assert second.terminate() == 0
        finally:
            first.kill()
            if second is not None:
                second.kill()


@pytest.mark.parametrize("callback_delay", [0.3, 120.0], ids=["quick-customer", "hanging-customer"])
def test_sigterm_exits_0_within_10_s_with_work_in_flight_and_loses_nothing(
    tmp_path: Path, receiver: CallbackReceiver, callback_delay: float
) -> None:
    total = 200
    with deployment(tmp_path) as deployed:
        first = deployed.server(**ENV).start()
        second: Server | None = None
        try:
            keys = deployed.new_account("sigterm", sms_per_second=10_000)
            with first.client(keys) as client:
                number = buy_number(client, starts_with="206")
                response = client.put("/v2.1/messages/sms_dlr_callback", json={"callback_url": receiver.url("/dlr")})
                assert response.status_code == 204
            receiver.answer("/dlr", delay=callback_delay)
            signalled: list[float] = []

            def terminate() -> None:
                assert first.process is not None
                signalled.append(time.monotonic())
                first.process.send_signal(signal.SIGTERM)

            burst = send_burst(first, keys, number, total, stop_after=total // 2, stop=terminate)
            assert first.process is not None
            code = first.process.wait(timeout=30)
            elapsed = time.monotonic() - signalled[0]
            print(f"\nSIGTERM after {len(burst.accepted)} accepted: exit {code} in {elapsed:.1f} s")
            assert code == 0, first.output()
            assert elapsed < 10
            assert "Traceback" not in first.output()
            assert "could not settle" not in first.output()  # nothing ran on after the database closed
            hung_at_exit = len(receiver.requests("/dlr")) if callback_delay >= 1 else 0  # posted, never answered
            receiver.answer("/dlr")
            lapsed = deployed.lapse_leases_of(first)
            second = deployed.server(**ENV).start()

            def settled() -> dict[str, tuple[str, list[int]]] | None:
                found = statuses(second, keys)
                done = all(status == "delivered" and levels == [2, 1] for status, levels in found.values())
                return found if done and set(burst.accepted) <= set(found) else None

            records = eventually(settled, timeout=60, interval=0.2, what="every MDR delivered with two receipts")
            wanted = {(message_id, level) for message_id in records for level in (1, 2)}
            counts = eventually(
                lambda: found if wanted <= set(found := dlr_counts(receiver.requests("/dlr"))) else None,
                timeout=60,
                what="a level-1 and a level-2 DLR for every message",
            )
            duplicates = sum(count - 1 for count in counts.values())
            print(f"leased at exit: {dict(lapsed)}; {duplicates} duplicate DLRs")
            assert set(counts) == wanted
            assert lapsed == Counter()  # a graceful stop releases what it could not finish: nothing waits for a lease
            assert duplicates <= hung_at_exit  # only callbacks the customer never answered are sent again
            assert table_count(deployed, "failed_jobs") == 0
            assert table_count(deployed, "webhook_dead_letters") == 0
            assert second.terminate() == 0
        finally:
            first.kill()
            if second is not None:
                second.kill()
