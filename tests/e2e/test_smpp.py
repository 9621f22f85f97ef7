"""SMPP carrier links end to end: a real `telroute serve`, configured with `telroute carriers ...` and
`telroute routes ...` while it runs, delivering through tests/peers/smsc.js (an SMSC on the npm `smpp`
package, a peer we did not write). Every check looks at both ends: what the SMSC received, and the
message records, receipts and callbacks telroute produced.

The tests of this module share one deployment (its own database), one SMSC and one server, and run
in order: each leaves the SMSC's settings as it found them.
"""

from __future__ import annotations

import json
import os
import queue
import subprocess
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, TypeVar

import httpx
import pytest

from tests.integration.test_smpp_link import INSTALL_SCRIPT, PEER_SCRIPT
from tests.support import loopback
from tests.support.server import Server
from tests.support.smpp_site import PASSWORD, SYSTEM_ID, Site, running_site

T = TypeVar("T")
PEER_DEFAULTS: dict[str, Any] = {
    "id_format": "dec",
    "id_pad": 0,
    "dlr_id_format": "same",
    "dlr_mode": "text",
    "dlr_delay_ms": 20,
    "dlr_stat": "DELIVRD",
    "response_delay_ms": 0,
    "reject_status": 0,
}
LONG_GSM = "Long GSM text with {escapes} and € signs. " * 9 + "The end."
LONG_UNICODE = "Привет, мир! Долгое сообщение 😀 " * 6


def eventually(probe: Callable[[], T | None], *, timeout: float = 15.0, what: str = "") -> T:
    """`probe()` once it is truthy; AssertionError with its last value at the deadline."""
    deadline = time.monotonic() + timeout
    while True:
        value = probe()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"not within {timeout} s: {what}; last value {value!r}")
        time.sleep(0.05)


# --- the SMSC -----------------------------------------------------------------------------------


class Smsc:
    """tests/peers/smsc.js in a subprocess, driven synchronously: one JSON line each way."""

    def __init__(self, node_path: str) -> None:
        self.process = subprocess.Popen(
            ["node", str(PEER_SCRIPT), "--port", "0", "--system-id", SYSTEM_ID, "--password", PASSWORD],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
            env={**os.environ, "NODE_PATH": node_path},
        )
        self._lines: queue.Queue[str] = queue.Queue()
        self._lock = threading.Lock()
        self._reader = threading.Thread(target=self._read, daemon=True, name="smsc-stdout")
        self._reader.start()
        self.port = int(self._line()["listening"])

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self._lines.put(line)

    def _line(self) -> dict[str, Any]:
        answer: dict[str, Any] = json.loads(self._lines.get(timeout=20))
        return answer

    def command(self, cmd: str, **fields: Any) -> dict[str, Any]:
        assert self.process.stdin is not None
        with self._lock:
            self.process.stdin.write(json.dumps({"cmd": cmd, **fields}) + "\n")
            self.process.stdin.flush()
            answer = self._line()
        assert answer.pop("ok"), answer
        return answer

    def config(self, **settings: Any) -> None:
        self.command("config", **settings)

    def stats(self) -> dict[str, Any]:
        return self.command("stats")

    def received(self) -> list[dict[str, Any]]:
        messages: list[dict[str, Any]] = self.command("received")["messages"]
        return messages

    def texts_to(self, number: str) -> list[str]:
        return [item["text"] for item in self.received() if item["to"] == number]

    def close(self) -> None:
        if self.process.stdin is not None:
            self.process.stdin.close()
        try:
            self.process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self._reader.join(timeout=5)
        if self.process.stdout is not None:
            self.process.stdout.close()


@pytest.fixture(scope="module")
def node_path() -> str:
    if subprocess.run(["which", "node"], capture_output=True).returncode != 0:
        pytest.skip("SMPP END-TO-END TESTS SKIPPED: `node` is not on PATH (scripts/test installs Node.js)")
    installed = subprocess.run([str(INSTALL_SCRIPT)], check=True, capture_output=True, text=True)
    return installed.stdout.strip().splitlines()[-1]


@contextmanager
def smsc(node_path: str) -> Iterator[Smsc]:
    peer = Smsc(node_path)
    try:
        yield peer
    finally:
        peer.close()


# --- a deployment of its own (tests/support/smpp_site.py) ----------------------------------------


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    with running_site(tmp_path_factory.mktemp("smpp-e2e")) as running:
        yield running


@pytest.fixture(scope="module")
def peer(node_path: str) -> Iterator[Smsc]:
    with smsc(node_path) as running:
        yield running


@pytest.fixture(scope="module")
def sender(site: Site, peer: Smsc) -> Iterator[Sender]:
    """The server, with the SMSC added (while it runs) as the default route; an account with a number."""
    site.server().start()
    site.cli(
        "carriers", "add", "primary", "--kind", "smpp", "--host", "127.0.0.1", "--port", str(peer.port),
        "--system-id", SYSTEM_ID, "--password", PASSWORD, "--window", "10", "--default",
    )  # fmt: skip
    # Before any send: a message the worker routes before it has seen the new carrier goes to the simulator.
    eventually(lambda: site.link("primary")["state"] == "bound", what="primary bound")
    with loopback.client(base_url=site.api.url, auth=site.account(), timeout=30) as client:
        yield Sender(site, client, buy_number(client))


# --- sending and reading back ---------------------------------------------------------------------


def buy_number(client: httpx.Client) -> str:
    found = client.get("/v2/numbers/available", params={"starts_with": "1201", "limit": 1})
    assert found.status_code == 200, found.text
    number = str(found.json()["data"][0]["id"])
    assert client.post(f"/v2/numbers/{number}").status_code == 201
    return number


@dataclass
class Sender:
    site: Site
    client: httpx.Client
    number: str
    counter: int = 0

    def next_destination(self, prefix: str = "1206555") -> str:
        self.counter += 1
        return f"{prefix}{self.counter:0{11 - len(prefix)}d}"

    def send(self, body: str, to: str | None = None) -> str:
        """One message; sent again with the same Idempotency-Key, as a careful client does, when the server
        closed the kept-alive connection just as the request went out (its keep-alive timeout, on a busy
        machine): the count of messages the SMSC takes stays exact."""
        attributes = {"to": to or self.next_destination(), "from": self.number, "body": body}
        document = {**attributes, "dlr_callback": self.site.callbacks.url("/dlr")}
        headers = {"Idempotency-Key": str(uuid.uuid4())}
        try:
            response = self.client.post("/v2.1/messages", json=document, headers=headers)
        except httpx.RemoteProtocolError:
            response = self.client.post("/v2.1/messages", json=document, headers=headers)
        assert response.status_code == 202, response.text
        return str(response.json()["data"]["id"])

    def record(self, message_id: str) -> dict[str, Any]:
        response = self.client.get(f"/v2.1/messages/{message_id}")
        assert response.status_code == 200, response.text
        attributes: dict[str, Any] = response.json()["data"]["attributes"]
        return attributes

    def final(self, message_ids: list[str], timeout: float = 20.0) -> dict[str, dict[str, Any]]:
        """Each message's record once it has its level-2 receipt (a final record is not read again)."""
        final: dict[str, dict[str, Any]] = {}

        def probe() -> dict[str, dict[str, Any]] | None:
            for message_id in message_ids:
                if message_id not in final:
                    record = self.record(message_id)
                    if _pending(record):
                        return None
                    final[message_id] = record
            return {message_id: final[message_id] for message_id in message_ids}

        return eventually(probe, timeout=timeout, what=f"level-2 receipts of {len(message_ids)} messages")

    def level2_callbacks(self, message_ids: list[str], timeout: float = 15.0) -> Counter[str]:
        """How many level-2 DLR callbacks each message got, once each has at least one."""
        wanted = set(message_ids)

        def probe() -> Counter[str] | None:
            counts = Counter(
                document["data"]["id"]
                for document in self.site.callbacks.documents("/dlr")
                if document["data"]["attributes"]["level"] == 2 and document["data"]["id"] in wanted
            )
            return counts if set(counts) == wanted else None

        return eventually(probe, timeout=timeout, what="level-2 DLR callbacks")


def _pending(record: dict[str, Any]) -> bool:
    """No level-2 receipt yet, or the status not yet the receipt's: GET reads the record and its receipts
    in two statements, so on PostgreSQL it can show the receipt a moment before the status."""
    receipts = [r for r in record["delivery_receipts"] if r["level"] == 2]
    return not receipts or record["status"] not in {r["status"] for r in receipts}


def level2(record: dict[str, Any]) -> list[tuple[str, int]]:
    return [(r["status"], r["status_code"]) for r in record["delivery_receipts"] if r["level"] == 2]


# --- tests ------------------------------------------------------------------------------------------


def test_a_carrier_added_while_the_server_runs_carries_its_sends(sender: Sender, peer: Smsc) -> None:
    site = sender.site
    to = sender.next_destination()
    message_id = sender.send("Hello over SMPP {€}", to)
    [record] = sender.final([message_id]).values()
    assert record["status"] == "delivered"
    assert [(r["level"], r["status"]) for r in sorted(record["delivery_receipts"], key=lambda r: r["level"])] == [
        (1, "smsc submit"),
        (2, "delivered"),
    ]
    assert peer.texts_to(to) == ["Hello over SMPP {€}"]
    assert sender.level2_callbacks([message_id]) == {message_id: 1}
    [callback] = [d for d in site.callbacks.documents("/dlr") if d["data"]["attributes"]["level"] == 2]
    assert callback["data"]["attributes"]["status"] == "delivered"
    [listed] = json.loads(site.cli("carriers", "list", "--json").stdout)
    assert (listed["name"], listed["default"], listed["config"]["port"]) == ("primary", True, peer.port)
    assert "password" not in listed["config"]
    eventually(lambda: site.link("primary").get("receipts", 0) >= 1, what="the receipt counted")
    status = site.status()["primary"]
    assert (status["state"], status["bound"], status["sent"], status["receipts"], status["errors"]) == (
        "bound",
        True,
        1,
        1,
        0,
    )
    assert status["holder"] and status["last_error"] is None


RECEIPT_CASES: list[tuple[dict[str, Any], str, int]] = [
    ({"dlr_mode": "text"}, "delivered", 1000),
    ({"dlr_mode": "text", "id_format": "hex", "id_pad": 10, "dlr_id_format": "dec"}, "delivered", 1000),
    ({"dlr_mode": "tlv", "id_format": "dec", "id_pad": 12, "dlr_id_format": "hex"}, "delivered", 1000),
    ({"dlr_mode": "both", "id_format": "hex"}, "delivered", 1000),
    ({"dlr_mode": "text", "dlr_stat": "UNDELIV"}, "undelivered", 1100),
    ({"dlr_mode": "tlv", "dlr_stat": "UNDELIV", "id_format": "hex", "dlr_id_format": "dec"}, "undelivered", 1100),
    ({"dlr_mode": "text", "dlr_stat": "EXPIRED"}, "expired", 1101),
    ({"dlr_mode": "text", "dlr_stat": "REJECTD"}, "rejected", 1102),
]


def test_receipts_in_text_and_tlv_with_hex_and_decimal_ids_become_level_2_receipts(sender: Sender, peer: Smsc) -> None:
    sent: dict[str, tuple[str, int]] = {}
    try:
        for settings, status, code in RECEIPT_CASES:
            peer.config(**{**PEER_DEFAULTS, **settings})
            message_id = sender.send(f"receipt case {settings}")
            sender.final([message_id])  # before the next case changes how the SMSC writes receipts
            sent[message_id] = (status, code)
    finally:
        peer.config(**PEER_DEFAULTS)
    records = sender.final(list(sent))
    assert {m: (r["status"], level2(r)) for m, r in records.items()} == {
        m: (status, [(status, code)]) for m, (status, code) in sent.items()
    }
    assert sender.level2_callbacks(list(sent)) == dict.fromkeys(sent, 1)
    statuses = {
        d["data"]["id"]: d["data"]["attributes"]["status"]
        for d in sender.site.callbacks.documents("/dlr")
        if d["data"]["attributes"]["level"] == 2 and d["data"]["id"] in sent
    }
    assert statuses == {m: status for m, (status, _) in sent.items()}


def test_long_gsm_and_unicode_messages_arrive_whole_and_are_delivered_when_every_part_is(
    sender: Sender, peer: Smsc
) -> None:
    gsm_to, unicode_to = sender.next_destination(), sender.next_destination()
    message_ids = [sender.send(LONG_GSM, gsm_to), sender.send(LONG_UNICODE, unicode_to)]
    records = sender.final(message_ids)
    assert [(r["status"], level2(r)) for r in records.values()] == [("delivered", [("delivered", 1000)])] * 2
    [gsm] = [item for item in peer.received() if item["to"] == gsm_to]
    [unicode] = [item for item in peer.received() if item["to"] == unicode_to]
    assert (gsm["text"], gsm["parts"], gsm["data_coding"]) == (LONG_GSM, 3, 0)
    assert (unicode["text"], unicode["parts"], unicode["data_coding"]) == (LONG_UNICODE, 3, 8)
    parts = sender.site.query(
        "SELECT c.carrier_message_id, c.state FROM carrier_message_ids c JOIN messages m ON m.id = c.message_id "
        "WHERE m.public_id = :id ORDER BY c.part",
        {"id": message_ids[0]},
    )
    assert [(p["carrier_message_id"], p["state"]) for p in parts] == [(i, "DELIVRD") for i in gsm["ids"]]


def test_mobile_originated_messages_reach_the_owner_and_its_callback(sender: Sender, peer: Smsc) -> None:
    response = sender.client.put("/v2.1/messages/sms_callback", json={"callback_url": sender.site.callbacks.url("/mo")})
    assert response.status_code == 204, response.text
    sent_by_the_smsc: list[dict[str, Any]] = [
        {"from": "13125550101", "parts": ["Hello from a [long] ", "message in three ", "parts €"], "reverse": True},
        {"from": "13125550102", "parts": ["Привет ", "мир 😀"], "coding": "ucs2", "via": "sar", "ref": 9},
        {"from": "13125550103", "parts": ["single"]},
    ]
    for mo in sent_by_the_smsc:
        assert peer.command("mo", to=sender.number, **mo)["statuses"] == [0] * len(mo["parts"])
    expected = {
        ("13125550101", "Hello from a [long] message in three parts €"),
        ("13125550102", "Привет мир 😀"),
        ("13125550103", "single"),
    }

    def all_three() -> list[Any] | None:
        found = sender.site.callbacks.documents("/mo")
        return found if len(found) >= 3 else None

    documents = eventually(all_three, what="the three MO callbacks")
    assert {(d["data"]["attributes"]["from"], d["data"]["attributes"]["body"]) for d in documents} == expected
    assert all(d["data"]["attributes"]["to"] == sender.number for d in documents)
    listed = sender.client.get("/v2.1/messages", params={"start_date": "2000-01-01", "limit": 1000}).json()["data"]
    inbound = {
        (m["attributes"]["from"], m["attributes"]["body"]) for m in listed if m["attributes"]["direction"] == "inbound"
    }
    assert inbound == expected


def test_a_permanent_submit_refusal_is_recorded_with_a_level_2_receipt(sender: Sender, peer: Smsc) -> None:
    try:
        peer.config(reject_status=0x0B)  # ESME_RINVDSTADR
        rejected = sender.send("to a bad address")
        [record] = sender.final([rejected]).values()
        peer.config(reject_status=0x45)  # ESME_RSUBMITFAIL
        failed = sender.send("the SMSC could not take it")
        [failed_record] = sender.final([failed]).values()
    finally:
        peer.config(reject_status=0)
    assert (record["status"], [r["status"] for r in record["delivery_receipts"]]) == ("rejected", ["rejected"])
    assert "ESME_RINVDSTADR" in record["delivery_receipts"][0]["status_code_description"]
    assert (failed_record["status"], level2(failed_record)[0][0]) == ("failed", "failed")
    assert sender.level2_callbacks([rejected, failed]) == {rejected: 1, failed: 1}


def test_throttling_slows_the_link_down_and_everything_is_delivered(sender: Sender, peer: Smsc) -> None:
    before = peer.stats()["throttled"]
    peer.config(throttle_ms=600)
    message_ids = [sender.send(f"throttled {n}") for n in range(20)]
    records = sender.final(message_ids, timeout=30)
    assert {r["status"] for r in records.values()} == {"delivered"}
    assert peer.stats()["throttled"] > before


def test_an_smsc_restart_mid_stream_delivers_every_message_exactly_once(sender: Sender, peer: Smsc) -> None:
    peer.config(response_delay_ms=40)
    try:
        accepted = peer.stats()["accepted"]
        destinations = [sender.next_destination() for _ in range(80)]
        message_ids = [sender.send(f"stream {n}", to) for n, to in enumerate(destinations)]
        eventually(lambda: peer.stats()["accepted"] >= accepted + 20, what="a quarter through")
        peer.command("restart", down_ms=500)
    finally:
        peer.config(response_delay_ms=0)
    records = sender.final(message_ids, timeout=40)
    assert {m: (r["status"], len(level2(r))) for m, r in records.items()} == dict.fromkeys(
        message_ids, ("delivered", 1)
    )
    assert sender.level2_callbacks(message_ids) == dict.fromkeys(message_ids, 1)
    texts = Counter((item["to"], item["text"]) for item in peer.received())
    assert all(texts[(to, f"stream {n}")] >= 1 for n, to in enumerate(destinations))
    assert peer.stats()["binds"] >= 2


def test_routes_choose_the_carrier_by_prefix(sender: Sender, peer: Smsc, node_path: str) -> None:
    site = sender.site
    with smsc(node_path) as second:
        site.cli(
            "carriers", "add", "second", "--host", "127.0.0.1", "--port", str(second.port), "--system-id",
            SYSTEM_ID, "--password", PASSWORD,
        )  # fmt: skip
        site.cli("routes", "add", "--prefix", "1312", "--carrier", "second")
        assert json.loads(site.cli("routes", "list", "--json").stdout) == [
            {"prefix": "1312", "default": False, "carrier": "second", "carrier_exists": True},
            {"prefix": None, "default": True, "carrier": "primary", "carrier_exists": True},
        ]
        eventually(lambda: site.link("second")["state"] == "bound", what="second bound")
        # The rule was added after the refresh that started the link: wait for a refresh begun after it.
        routed_after = time.time_ns() // 1000 + 2_500_000
        eventually(lambda: site.reported_at("second") > routed_after, timeout=20, what="a refresh after the route")
        chicago, seattle = sender.next_destination("1312555"), sender.next_destination()
        sender.final([sender.send("via second", chicago), sender.send("via primary", seattle)])
        assert [item["to"] for item in second.received()] == [chicago]
        assert peer.texts_to(seattle) == ["via primary"]
        site.cli("routes", "remove", "--prefix", "1312")
        site.cli("carriers", "remove", "second")
        eventually(lambda: second.stats()["bound_sessions"] == 0, what="second unbound")
        assert second.stats()["unbinds"] == 1
        later = sender.next_destination("1312555")
        sender.final([sender.send("back to primary", later)])
        assert later not in {item["to"] for item in second.received()}


def test_a_refused_bind_keeps_messages_queued_and_loses_none(sender: Sender, peer: Smsc) -> None:
    site = sender.site
    add = ("carriers", "add", "primary", "--host", "127.0.0.1", "--port", str(peer.port), "--system-id", SYSTEM_ID)
    site.cli("carriers", "remove", "primary")
    site.cli(*add, "--password", "wrong")
    eventually(lambda: "ESME_RINVPASWD" in (site.link("primary").get("last_error") or ""), what="bind refused")
    status = site.status()["primary"]
    assert (status["bound"], status["state"]) == (False, "unbound")
    assert "ESME_RINVPASWD" in status["last_error"]
    destinations = [sender.next_destination() for _ in range(5)]
    message_ids = [sender.send(f"waiting {n}", to) for n, to in enumerate(destinations)]
    time.sleep(1.5)  # the jobs have been tried by now (the worker polls every 50 ms)
    assert {sender.record(m)["status"] for m in message_ids} == {"queued"}
    assert not set(destinations) & {item["to"] for item in peer.received()}
    site.cli("carriers", "remove", "primary")
    site.cli(*add, "--password", PASSWORD)
    records = sender.final(message_ids, timeout=40)
    assert {r["status"] for r in records.values()} == {"delivered"}
    assert sorted(peer.texts_to(d)[0] for d in destinations) == sorted(f"waiting {n}" for n in range(5))
    assert site.link("primary")["state"] == "bound"


def test_receipts_after_a_restart_are_matched_durably_and_stop_unbinds(sender: Sender, peer: Smsc) -> None:
    """Receipts spelled unlike the submit responses (hex, then decimal) reach a new process that never
    saw those submits: it finds the messages by the spellings recorded with them."""
    site = sender.site
    unbinds = peer.stats()["unbinds"]
    peer.config(id_format="hex", id_pad=8, dlr_id_format="dec", dlr_delay_ms=2500)
    try:
        message_ids = [sender.send(f"across a restart {n}") for n in range(4)]
        eventually(lambda: all(sender.record(m)["status"] == "smsc submit" for m in message_ids), what="all submitted")
        assert site.api.terminate() == 0
        stats = peer.stats()
        assert (stats["unbinds"], stats["bound_sessions"]) == (unbinds + 1, 0)  # a graceful stop unbinds
        before = site.query(
            "SELECT COUNT(*) AS n FROM receipts r JOIN messages m ON m.id = r.message_id "
            "WHERE r.level = 2 AND m.body LIKE 'across a restart %'"
        )
        assert before == [{"n": 0}], "the receipts came before the restart: nothing was tested"
        site.servers[0] = Server(site.data_dir, env_extra={"TELROUTE_DATABASE_URL": site.database_url}).start()
        sender.client.base_url = httpx.URL(site.api.url)
        records = sender.final(message_ids, timeout=30)
    finally:
        peer.config(**PEER_DEFAULTS)
    assert {m: level2(r) for m, r in records.items()} == {m: [("delivered", 1000)] for m in message_ids}
    submitted = site.query(
        "SELECT c.carrier_message_id, c.id_key, c.id_value FROM carrier_message_ids c "
        "JOIN messages m ON m.id = c.message_id WHERE m.public_id = :id",
        {"id": message_ids[0]},
    )
    [row] = submitted
    assert len(row["carrier_message_id"]) == 8 and row["carrier_message_id"].startswith("00")
    assert row["id_value"] == str(int(row["carrier_message_id"], 16))
