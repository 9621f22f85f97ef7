"""Nothing lost: a real `telroute serve` is killed (SIGKILL) or stopped (SIGTERM) while sends, purchases,
deliveries and callbacks are in flight, then started again on the same data dir. Every message that got
a 202 is delivered and its level-2 DLR reaches the customer; every purchase that got a 201 is kept, and
no number has two owners; a callback in flight is delivered after the restart.

After a SIGKILL the dead server's claimed jobs wait for their lease (`job_lease_seconds`, 60 s) to lapse;
the tests make those leases lapse at once (`Deployment.lapse_leases_of`) instead of sleeping a minute.
"""

from __future__ import annotations

import os
import signal
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

import httpx
import pytest

from tests.support import loopback
from tests.support.callback_receiver import CallbackReceiver
from tests.support.isolated import Deployment, deployment, eventually
from tests.support.messaging import buy_number
from tests.support.receiver import Recorded
from tests.support.server import Server, children

pytestmark = pytest.mark.slow
ENV = {"TELROUTE_WEBHOOK_BACKOFF": "0.2,0.2,0.2,0.2,0.2", "TELROUTE_SIMULATOR_RECEIPT_DELAY": "0.3"}
Keys = tuple[str, str]
Records = dict[str, tuple[str, list[int]]]  # message id -> (status, receipt levels newest first)
WORKERS = 16
RIVALS_AREACODE = "503"  # where the rivals' numbers come from; the sender's comes from 206
RIVALS_NUMBERS = 50
FOR_SALE = "for sale"  # who holds a number nobody owns


@dataclass(frozen=True)
class Purchase:
    number: str
    buyer: str  # a rival's name
    status: int | None  # None: no answer (the connection was refused or dropped)


@dataclass
class Rivals:
    """Two accounts that both try to buy each of `numbers` during the burst: the two purchases of a number are
    queued back to back, so that they race."""

    accounts: dict[str, Keys]  # name -> keys
    numbers: list[str]


@dataclass
class Burst:
    """A burst of concurrent sends and purchases that calls `stop()` once `stop_after` sends got a 202; and its
    outcome: who got a 202 or an answer to a purchase, who got nothing."""

    sender: str  # the number the SMS are sent from
    rivals: Rivals
    stop_after: int
    stop: Callable[[], None]
    accepted: dict[str, str] = field(default_factory=dict)  # message id -> to
    refused: list[str] = field(default_factory=list)  # any other answer, or none
    purchases: list[Purchase] = field(default_factory=list)
    stopped_at: float | None = None  # time.monotonic() when `stop` was called
    lock: threading.Lock = field(default_factory=threading.Lock)

    def tasks(self, sends: int) -> list[Callable[[httpx.Client], None]]:
        """`sends` sends, with both rivals' purchases of their next number after every few of them."""
        contested = iter(self.rivals.numbers)
        every = max(1, sends // len(self.rivals.numbers))
        tasks: list[Callable[[httpx.Client], None]] = []
        for index in range(sends):
            tasks.append(partial(self.send, index))
            number = next(contested, None) if index % every == 0 else None
            if number is not None:
                tasks.extend(partial(self.buy, number, buyer) for buyer in self.rivals.accounts)
        return tasks

    def send(self, index: int, client: httpx.Client) -> None:
        to = f"1206555{2000 + index:04d}"
        try:
            response = client.post("/v2.1/messages", json={"from": self.sender, "to": to, "body": f"burst {index}"})
        except httpx.TransportError:
            response = None
        with self.lock:
            if response is not None and response.status_code == 202:
                self.accepted[response.json()["data"]["id"]] = to
            else:
                self.refused.append(to)
            reached = len(self.accepted) >= self.stop_after and self.stopped_at is None
            if reached:
                self.stopped_at = time.monotonic()
        if reached:
            self.stop()

    def buy(self, number: str, buyer: str, client: httpx.Client) -> None:
        try:
            status: int | None = client.post(f"/v2/numbers/{number}", auth=self.rivals.accounts[buyer]).status_code
        except httpx.TransportError:
            status = None
        with self.lock:
            self.purchases.append(Purchase(number, buyer, status))


def run_burst(server: Server, keys: Keys, burst: Burst, sends: int) -> None:
    """Run the burst's tasks on `WORKERS` threads, sending as `keys`."""
    limits = httpx.Limits(max_connections=WORKERS, max_keepalive_connections=WORKERS)
    with (
        loopback.client(base_url=server.url, auth=keys, timeout=30.0, limits=limits) as client,
        ThreadPoolExecutor(max_workers=WORKERS) as pool,
    ):
        for future in [pool.submit(task, client) for task in burst.tasks(sends)]:
            future.result()
    assert burst.stopped_at is not None, f"only {len(burst.accepted)} of {sends} sends were accepted"


def prepare_sender(deployed: Deployment, server: Server, receiver: CallbackReceiver) -> tuple[Keys, str]:
    """An account with a number to send from and its DLR callback at the receiver's /dlr."""
    keys = deployed.new_account("crash", sms_per_second=10_000)
    with server.client(keys) as client:
        number = buy_number(client, starts_with="206")
        response = client.put("/v2.1/messages/sms_dlr_callback", json={"callback_url": receiver.url("/dlr")})
        assert response.status_code == 204, response.text
    return keys, number


def prepare_rivals(deployed: Deployment, server: Server) -> Rivals:
    accounts = {name: deployed.new_account(f"rival {name}") for name in ("red", "blue")}
    with server.client(accounts["red"]) as client:
        numbers = for_sale(client, limit=RIVALS_NUMBERS)
    assert len(numbers) == RIVALS_NUMBERS
    return Rivals(accounts, numbers)


def for_sale(client: httpx.Client, *, limit: int = 200) -> list[str]:
    """The first `limit` numbers for sale in the rivals' area code, in order."""
    response = client.get("/v2/numbers/available", params={"starts_with": f"1{RIVALS_AREACODE}", "limit": limit})
    assert response.status_code == 200, response.text
    return [str(item["id"]) for item in response.json()["data"]]


def statuses(server: Server, keys: Keys) -> Records:
    """Every MDR of the account."""
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


def unclaimed(deployed: Deployment, kind: str) -> int:
    rows = deployed.query("SELECT COUNT(*) AS n FROM jobs WHERE kind = :kind AND locked_by IS NULL", {"kind": kind})
    return int(rows[0]["n"])


# --- after the restart ---------------------------------------------------------------------------


def settle(
    deployed: Deployment, server: Server, keys: Keys, burst: Burst, receiver: CallbackReceiver
) -> tuple[Records, Counter[tuple[str, int]]]:
    """Once every message is delivered with two receipts, the customer has a level-1 and a level-2 DLR of each,
    and no delivery or callback job is left: the records, and how often each DLR arrived."""

    def delivered() -> Records | None:
        found = statuses(server, keys)
        done = all(status == "delivered" and levels == [2, 1] for status, levels in found.values())
        return found if done and set(burst.accepted) <= set(found) else None

    records = eventually(delivered, timeout=60, interval=0.2, what="every MDR delivered with two receipts")
    wanted = {(message_id, level) for message_id in records for level in (1, 2)}
    eventually(
        lambda: wanted <= set(dlr_counts(receiver.requests("/dlr"))),
        timeout=60,
        what="a level-1 and a level-2 DLR for every message",
    )
    eventually(
        lambda: not {"deliver_message", "deliver_webhook"} & set(queue(deployed)),
        what="no delivery or callback job left",
    )
    dlrs = dlr_counts(receiver.requests("/dlr"))
    assert set(dlrs) == wanted  # no DLR for a message that does not exist
    return records, dlrs


def holders_in_api(server: Server, rivals: Rivals) -> dict[str, set[str]]:
    """Who holds each of the rivals' numbers, as the API tells: the rivals whose GET /v2/numbers/{number} is a
    200, and FOR_SALE if the search lists it."""
    holders: dict[str, set[str]] = {number: set() for number in rivals.numbers}
    for name, keys in rivals.accounts.items():
        with server.client(keys) as client:
            for number in rivals.numbers:
                status = client.get(f"/v2/numbers/{number}").status_code
                assert status in (200, 404), f"GET {number} as {name}: {status}"
                if status == 200:
                    holders[number].add(name)
    with server.client(next(iter(rivals.accounts.values()))) as client:
        for number in set(for_sale(client)) & set(rivals.numbers):
            holders[number].add(FOR_SALE)
    return holders


def holders_in_database(deployed: Deployment, rivals: Rivals) -> dict[str, set[str]]:
    """Who holds each of the rivals' numbers, as the `numbers` rows tell (a row per owner)."""
    names = {keys[0]: name for name, keys in rivals.accounts.items()}
    rows = deployed.query(
        "SELECT numbers.value, accounts.access_key FROM numbers LEFT JOIN accounts ON accounts.id = numbers.account_id "
        "WHERE numbers.npa = :npa",
        {"npa": RIVALS_AREACODE},
    )
    holders: dict[str, set[str]] = {number: set() for number in rivals.numbers}
    for row in rows:
        if row["value"] in holders:
            owner = row["access_key"]
            holders[row["value"]].add(FOR_SALE if owner is None else names.get(owner, owner))
    return holders


def assert_purchases_kept(
    deployed: Deployment, server: Server, rivals: Rivals, purchases: list[Purchase]
) -> dict[str, set[str]]:
    """Every 201 is kept by its buyer, no 404'd buyer holds its number, and every number has one holder (one
    rival, or nobody: for sale), never two; the API and the database agree. The holders."""
    assert [purchase for purchase in purchases if purchase.status not in (201, 404, None)] == []
    holders = holders_in_api(server, rivals)
    assert holders == holders_in_database(deployed, rivals)
    assert {number: found for number, found in holders.items() if len(found) != 1} == {}
    won = Counter(purchase.number for purchase in purchases if purchase.status == 201)
    assert {number: count for number, count in won.items() if count > 1} == {}  # one 201 per number
    for purchase in purchases:
        race = [attempt for attempt in purchases if attempt.number == purchase.number]
        if purchase.status == 201:
            assert holders[purchase.number] == {purchase.buyer}, race
        elif purchase.status == 404:  # the rival had it
            [rival] = set(rivals.accounts) - {purchase.buyer}
            assert holders[purchase.number] == {rival}, race
    assert deployed.query("SELECT value FROM numbers GROUP BY value HAVING COUNT(*) > 1") == []
    assert blocks_miscounted(deployed, RIVALS_AREACODE) == []
    return holders


def blocks_miscounted(deployed: Deployment, npa: str) -> list[dict[str, object]]:
    """The area code's inventory blocks whose `available` is not their count of numbers for sale (a purchase
    takes the number and decrements its block in one transaction)."""
    return deployed.query(  # the numbers counted once, grouped (SQLite's join scanned them once per block)
        "SELECT blocks.nxx, blocks.available, COALESCE(counted.unsold, 0) AS unsold FROM inventory_blocks AS blocks "
        "LEFT JOIN (SELECT nxx, setup_cost_nd, COUNT(*) AS unsold FROM numbers "
        "WHERE npa = :npa AND account_id IS NULL GROUP BY nxx, setup_cost_nd) AS counted "
        "ON counted.nxx = blocks.nxx AND counted.setup_cost_nd = blocks.setup_cost_nd "
        "WHERE blocks.npa = :npa AND blocks.available <> COALESCE(counted.unsold, 0)",
        {"npa": npa},
    )


# --- the shared sequence: burst, signal, restart, settle -------------------------------------------


@dataclass
class Recovery:
    """What a burst interrupted by a signal left, once a second server on the same data had settled it."""

    first: Server  # the interrupted server, exited
    exit_seconds: float  # from the signal to its exit
    burst: Burst
    dlrs_before_restart: int  # callbacks the customer had received (answered or not) before the restart
    lapsed: Counter[str]  # jobs of each kind the first server still held
    records: Records
    dlrs: Counter[tuple[str, int]]
    holders: dict[str, set[str]]  # the rivals' numbers -> who holds each

    @property
    def duplicate_dlrs(self) -> int:
        return sum(count - 1 for count in self.dlrs.values())

    def summary(self) -> str:
        answers = Counter(purchase.status for purchase in self.burst.purchases)
        won = {purchase.number for purchase in self.burst.purchases if purchase.status == 201}
        bought_unanswered = {number for number, found in self.holders.items() if found != {FOR_SALE}} - won
        return (
            f"\nsignalled after {len(self.burst.accepted)} accepted sends ({len(self.burst.refused)} got no 202), "
            f"exit in {self.exit_seconds:.1f} s; purchase answers {dict(answers)}, {len(bought_unanswered)} "
            f"numbers bought without a 201; {self.dlrs_before_restart} DLRs had arrived; leased by the first "
            f"server: {dict(self.lapsed)}; {len(self.records)} MDRs; {self.dlrs.total()} DLRs received, "
            f"{self.duplicate_dlrs} duplicates"
        )


def worker_pid(server: Server) -> int:
    """The pid of `serve`'s worker process."""
    assert server.process is not None
    [child] = children(server.process.pid)
    return child


def interrupt_and_recover(
    tmp_path: Path, receiver: CallbackReceiver, signum: signal.Signals, *, sends: int, callback_delay: float
) -> Recovery:
    """Signal a server once half of a burst of `sends` SMS (and the rivals' purchases among them) got a 202,
    while the customer answers DLRs after `callback_delay`; start another on the same data, and wait for it
    to deliver everything. Checks what no interruption may lose: every 202'd message exists, is delivered and
    has its DLRs; every 201'd purchase is kept; nothing failed for good."""
    with deployment(tmp_path) as deployed:
        first = deployed.server(**ENV).start()
        second: Server | None = None
        try:
            keys, sender = prepare_sender(deployed, first, receiver)
            rivals = prepare_rivals(deployed, first)
            receiver.answer("/dlr", delay=callback_delay)
            assert first.process is not None
            burst = Burst(sender, rivals, stop_after=sends // 2, stop=partial(first.process.send_signal, signum))
            run_burst(first, keys, burst, sends)
            first.process.wait(timeout=30)
            exit_seconds = time.monotonic() - (burst.stopped_at or 0.0)
            dlrs_before_restart = len(receiver.requests("/dlr"))
            receiver.answer("/dlr")
            lapsed = deployed.lapse_leases_of(first)
            second = deployed.server(**ENV).start()
            records, dlrs = settle(deployed, second, keys, burst, receiver)
            assert len(burst.accepted) <= len(records) <= sends  # a send can commit and lose its 202 in the stop
            holders = assert_purchases_kept(deployed, second, rivals, burst.purchases)
            assert table_count(deployed, "failed_jobs") == 0
            assert table_count(deployed, "webhook_dead_letters") == 0
            assert second.terminate() == 0
            return Recovery(first, exit_seconds, burst, dlrs_before_restart, lapsed, records, dlrs, holders)
        finally:
            first.kill()
            if second is not None:
                second.kill()


def inject_inbound(server: Server, admin_token: str, to: str, *, count: int) -> set[str]:
    """`count` inbound SMS to `to` through the sandbox; their ids."""
    ids = set()
    for index in range(count):
        injected = loopback.post(
            f"{server.url}/sandbox/inbound",
            json={"from": "12065550123", "to": to, "body": f"in {index}"},
            headers={"Authorization": f"Bearer {admin_token}"},
        )
        assert injected.status_code == 202, injected.text
        ids.add(str(injected.json()["data"]["id"]))
    return ids


@pytest.fixture
def receiver() -> Iterator[CallbackReceiver]:
    with CallbackReceiver() as running:
        yield running


def test_sigkill_mid_stream_loses_no_accepted_message_or_purchase(tmp_path: Path, receiver: CallbackReceiver) -> None:
    # The customer takes a moment to answer, so that some callbacks are in flight at the kill.
    recovery = interrupt_and_recover(tmp_path, receiver, signal.SIGKILL, sends=300, callback_delay=0.01)
    print(recovery.summary())
    assert recovery.first.process is not None and recovery.first.process.returncode == -signal.SIGKILL
    # A duplicate is a callback POSTed before the kill whose success was not yet committed: its job
    # was leased by the dead server. Nothing else may repeat.
    assert recovery.duplicate_dlrs <= recovery.lapsed["deliver_webhook"]


@pytest.mark.parametrize("worker_process", ["0", "1"], ids=["worker-in-process", "worker-process"])
def test_callbacks_in_flight_at_a_kill_are_delivered_after_the_restart(
    tmp_path: Path, receiver: CallbackReceiver, worker_process: str
) -> None:
    """The worker killed with its callbacks in flight: `serve`'s own process, or its worker process (then
    the parent too, as a machine's end would take both)."""
    env = {**ENV, "TELROUTE_WEBHOOK_BACKOFF": "3,3,3,3,3", "TELROUTE_SIMULATOR_RECEIPT_DELAY": "0.1"}
    env["TELROUTE_WORKER_PROCESS"] = worker_process
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
            receiver.wait_until(
                lambda requests: len([item for item in requests if item.path == "/slow"]) == 10,
                timeout=15,
                what="level 1 and level 2 of each message, all hanging",
            )
            # Only now, so that the kill comes well before their first retry (3 s on) is claimed.
            inbound_ids = inject_inbound(first, deployed.admin_token(), owned, count=3)
            receiver.wait_until(
                lambda requests: len([item for item in requests if item.path == "/erroring"]) == 3,
                timeout=15,
                what="the first try of each inbound callback",
            )
            eventually(
                lambda: table_count(deployed, "webhook_attempts") == 3 and unclaimed(deployed, "deliver_webhook") == 3,
                what="the three failures recorded, their jobs released until the retry",
            )
            worker = worker_pid(first) if worker_process == "1" else None
            if worker is not None:
                os.kill(worker, signal.SIGKILL)
            first.kill()
            killed_at = time.monotonic()
            receiver.answer("/slow")
            receiver.answer("/erroring")
            lapsed = deployed.lapse_leases_of(first, worker_pid=worker)
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
    recovery = interrupt_and_recover(tmp_path, receiver, signal.SIGTERM, sends=200, callback_delay=callback_delay)
    print(recovery.summary())
    output = recovery.first.output()
    assert recovery.first.process is not None and recovery.first.process.returncode == 0, output
    assert recovery.exit_seconds < 10
    assert "Traceback" not in output
    assert "could not settle" not in output  # nothing ran on after the database closed
    assert recovery.lapsed == Counter()  # a graceful stop releases what it could not finish: nothing waits for a lease
    hung_at_exit = recovery.dlrs_before_restart if callback_delay >= 1 else 0  # posted, never answered
    assert recovery.duplicate_dlrs <= hung_at_exit  # only callbacks the customer never answered are sent again
