"""SMPP faults under load: a real `telroute serve` sends a stream of a few hundred messages through
tests/peers/smsc.js while the SMSC misbehaves once in the middle of it. After each fault:

- every accepted message (202) reaches exactly one level-2 receipt, `delivered`; none fails;
- the SMSC saw at most a window's worth of submits more than there are messages (it counts submit_sm
  by destination, and each message has a destination of its own), and took no message twice but for
  answers lost in the fault;
- the fault's counter in `/metrics` (`telroute_smpp_events_total{carrier, event}`) rose.

The tests share one deployment, SMSC and server, and run in order.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import pytest

from tests.e2e.test_metrics import scrape_url
from tests.e2e.test_smpp import PEER_DEFAULTS, Sender, Smsc, buy_number, eventually, node_path, smsc
from tests.support import loopback
from tests.support.smpp_site import PASSWORD, SYSTEM_ID, Site, running_site

# the link's fault handling; its receipts' SQL runs on both databases in test_smpp: once,
# on the cheaper pass
pytestmark = [pytest.mark.one_database, pytest.mark.sqlite_only]

__all__ = ["node_path"]  # the fixture, shared with test_smpp.py

CARRIER = "faulty"
WINDOW = 10
TIMEOUT_SECONDS = 2.0  # the link's response_timeout: what an unanswered submit costs
MESSAGES = 200
SENDING_THREADS = 8
EVENTS = "telroute_smpp_events_total"
CONNECTION_LOST, GENERIC_NACK, RESPONSE_TIMEOUT = "connection_lost", "generic_nack", "response_timeout"
UNKNOWN_RECEIPT, UNBIND_RECEIVED = "unknown_receipt", "unbind_received"
ALL_EVENTS = {
    CONNECTION_LOST,
    "throttled",
    "queue_full",
    GENERIC_NACK,
    RESPONSE_TIMEOUT,
    UNKNOWN_RECEIPT,
    UNBIND_RECEIVED,
}


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    with running_site(tmp_path_factory.mktemp("smpp-faults")) as running:
        yield running


@pytest.fixture(scope="module")
def peer(node_path: str) -> Iterator[Smsc]:
    with smsc(node_path) as running:
        running.config(**PEER_DEFAULTS)
        yield running


@pytest.fixture(scope="module")
def sender(site: Site, peer: Smsc) -> Iterator[Sender]:
    site.server().start()
    site.cli(
        "carriers", "add", CARRIER, "--host", "127.0.0.1", "--port", str(peer.port), "--system-id", SYSTEM_ID,
        "--password", PASSWORD, "--window", str(WINDOW), "--default",
        "--set", f"response_timeout={TIMEOUT_SECONDS}", "--set", "reconnect_max_delay=1",
    )  # fmt: skip
    eventually(lambda: site.link(CARRIER)["state"] == "bound", timeout=20, what="the link bound")
    with loopback.client(base_url=site.api.url, auth=site.account(), timeout=30) as client:
        yield Sender(site, client, buy_number(client))


# --- a stream with a fault in the middle ----------------------------------------------------------


@dataclass
class Outcome:
    destinations: list[str]
    extra_submits: int  # submit_sm the SMSC received beyond one per message
    extra_accepted: int  # messages the SMSC took more than once
    events: Counter[str]  # how much each telroute_smpp_events_total series rose
    binds: int  # binds during the stream


def events_now(sender: Sender) -> Counter[str]:
    samples, _ = scrape_url(sender.site.api.url)
    found: Counter[str] = Counter()
    for (name, labels), sample in samples.items():
        if name == EVENTS and dict(labels).get("carrier") == CARRIER:
            found[dict(labels)["event"]] = int(sample)
    return found


def stream_with_fault(sender: Sender, peer: Smsc, tag: str, fault: Callable[[], object]) -> Outcome:
    """Send MESSAGES messages from SENDING_THREADS threads; once the SMSC has taken a third of them, run
    `fault`; wait until every message has its level-2 receipt."""
    destinations = [sender.next_destination() for _ in range(MESSAGES)]
    submits_before, events_before, binds_before = peer.stats()["submits"], events_now(sender), peer.stats()["binds"]
    sending = threading.Thread(target=send_all, args=(sender, tag, destinations))
    sending.start()
    try:
        eventually(
            lambda: peer.stats()["submits"] >= submits_before + MESSAGES // 3, timeout=30, what="a third submitted"
        )
        fault()
    finally:
        sending.join()
    wait_for_level2(sender.site, tag, timeout=45)
    submits = peer.command("submit_counts")["counts"]
    accepted = Counter(item["to"] for item in peer.received())
    return Outcome(
        destinations,
        extra_submits=sum(submits.get(to, 0) for to in destinations) - MESSAGES,
        extra_accepted=sum(accepted[to] for to in destinations) - MESSAGES,
        events=events_now(sender) - events_before,
        binds=peer.stats()["binds"] - binds_before,
    )


def send_all(sender: Sender, tag: str, destinations: list[str]) -> None:
    with ThreadPoolExecutor(SENDING_THREADS) as pool:
        list(pool.map(lambda item: sender.send(f"{tag} {item[0]}", item[1]), enumerate(destinations)))


def wait_for_level2(site: Site, tag: str, timeout: float) -> None:
    """Every message of the stream: its status and how many level-2 receipts it has, once none waits."""
    statement = (
        "SELECT m.status, (SELECT COUNT(*) FROM receipts r WHERE r.message_id = m.id AND r.level = 2) AS level2 "
        "FROM messages m WHERE m.body LIKE :tag"
    )

    def probe() -> Counter[tuple[str, int]] | None:
        rows = site.query(statement, {"tag": f"{tag} %"})
        done = len(rows) == MESSAGES and all(row["level2"] > 0 for row in rows)
        return Counter((str(row["status"]), int(row["level2"])) for row in rows) if done else None

    outcome = eventually(probe, timeout=timeout, what=f"level-2 receipts of the {tag} stream")
    assert outcome == {("delivered", 1): MESSAGES}


# --- tests ------------------------------------------------------------------------------------------


def test_a_dropped_connection_with_a_full_window_in_flight(sender: Sender, peer: Smsc) -> None:
    dropped = peer.stats()["dropped"]
    outcome = stream_with_fault(sender, peer, "drop", lambda: peer.command("fault", kind="drop", count=WINDOW))
    assert peer.stats()["dropped"] == dropped + 1
    assert outcome.extra_submits == WINDOW  # the held window, submitted again on the new connection
    assert outcome.extra_accepted == 0
    assert outcome.events[CONNECTION_LOST] == 1
    assert outcome.binds == 1


@pytest.mark.parametrize(("status", "event"), [(0x58, "throttled"), (0x14, "queue_full")])
def test_throttled_and_queue_full_answers_slow_the_link_and_fail_nothing(
    sender: Sender, peer: Smsc, status: int, event: str
) -> None:
    refused = peer.stats()["refused"]
    outcome = stream_with_fault(
        sender, peer, event, lambda: peer.command("fault", kind="refuse", status=status, count=60, every=2)
    )
    assert peer.stats()["refused"] == refused + 60
    assert outcome.extra_submits == 60  # each refused submit once more, none accepted twice
    assert outcome.extra_accepted == 0
    assert outcome.events[event] == 60
    assert outcome.binds == 0


def test_generic_nack_answers_are_submitted_again(sender: Sender, peer: Smsc) -> None:
    outcome = stream_with_fault(sender, peer, "nack", lambda: peer.command("fault", kind="nack", count=30, every=3))
    assert outcome.extra_submits == 30
    assert outcome.extra_accepted == 0
    assert outcome.events[GENERIC_NACK] == 30
    assert outcome.binds == 0


def test_an_smsc_that_stops_answering_gets_a_new_session(sender: Sender, peer: Smsc) -> None:
    outcome = stream_with_fault(sender, peer, "silence", lambda: peer.command("fault", kind="silence"))
    assert 1 <= outcome.extra_submits <= WINDOW  # what the silent session swallowed, submitted again
    assert outcome.extra_accepted == 0
    assert outcome.events[RESPONSE_TIMEOUT] == 1
    assert outcome.binds == 1


def test_a_receipt_for_an_unknown_message_id_is_acknowledged_and_counted(sender: Sender, peer: Smsc) -> None:
    answers: list[int] = []
    outcome = stream_with_fault(
        sender, peer, "unknown", lambda: answers.append(peer.command("unknown_dlr", id="nosuchid42")["status"])
    )
    assert answers == [0]  # ESME_ROK: recorded, so the SMSC does not send it again
    assert (outcome.extra_submits, outcome.extra_accepted, outcome.binds) == (0, 0, 0)
    assert outcome.events[UNKNOWN_RECEIPT] == 1


def test_an_unbind_from_the_smsc_is_answered_and_the_link_binds_again(sender: Sender, peer: Smsc) -> None:
    unbinds = peer.stats()["unbinds"]
    peer.config(response_delay_ms=100)  # so that a window of submits is in flight when the unbind comes
    try:
        outcome = stream_with_fault(sender, peer, "unbind", lambda: peer.command("unbind"))
    finally:
        peer.config(response_delay_ms=0)
    # This SMSC still answers the submits in flight after its unbind, and they were awaited before the
    # unbind_resp: none goes out twice (an SMSC that did not answer them would get at most WINDOW again).
    assert (outcome.extra_submits, outcome.extra_accepted) == (0, 0)
    assert outcome.events[UNBIND_RECEIVED] == 1
    assert outcome.events[CONNECTION_LOST] == 0
    assert outcome.binds == 1
    assert peer.stats()["unbinds"] == unbinds  # it was the SMSC's unbind, answered with unbind_resp


def test_each_event_of_a_link_is_a_counter_in_metrics_from_the_start(sender: Sender) -> None:
    samples, text = scrape_url(sender.site.api.url)
    assert f"# TYPE {EVENTS} counter" in text
    series = {dict(labels)["event"] for (name, labels) in samples if name == EVENTS and ("carrier", CARRIER) in labels}
    assert series == ALL_EVENTS
