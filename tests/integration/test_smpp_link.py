"""SmppCarrier against a real SMSC we did not write: the npm package `smpp` 0.5.1, driven by
tests/peers/smsc.js on 127.0.0.1. The peer reports what it received, so each test checks both
ends of the wire.
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import subprocess
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine
from contextlib import asynccontextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import pytest

from telroute.carriers.smpp.carrier import SmppCarrier
from telroute.carriers.smpp.config import SmppLinkConfig
from telroute.messages.carrier_port import (
    CarrierInbound,
    CarrierReceipt,
    OutboundMessage,
    PermanentCarrierError,
    SubmitResult,
    TransientCarrierError,
)

pytestmark = pytest.mark.no_database

ROOT = Path(__file__).resolve().parents[2]
PEER_SCRIPT = ROOT / "tests" / "peers" / "smsc.js"
INSTALL_SCRIPT = ROOT / "scripts" / "install-smpp-peer"
SYSTEM_ID, PASSWORD = "telroute", "secret"


@dataclass(frozen=True)
class PeerEnv:
    node: str
    node_path: str


@pytest.fixture(scope="module")
def peer_env() -> PeerEnv:
    node = shutil.which("node")
    if node is None:
        pytest.skip(
            "SMPP INTEGRATION TESTS SKIPPED: `node` is not on PATH; install Node.js 20 so that "
            "scripts/install-smpp-peer can fetch the npm `smpp` peer"
        )
    installed = subprocess.run([str(INSTALL_SCRIPT)], check=True, capture_output=True, text=True)
    return PeerEnv(node, installed.stdout.strip().splitlines()[-1])


class SmscPeer:
    """The control channel of a running tests/peers/smsc.js: one JSON line each way."""

    def __init__(self, process: asyncio.subprocess.Process, port: int) -> None:
        self.process = process
        self.port = port
        self._turn = asyncio.Lock()  # the peer answers commands in order, one line each

    async def command(self, cmd: str, **fields: Any) -> dict[str, Any]:
        assert self.process.stdin is not None and self.process.stdout is not None
        async with self._turn:
            self.process.stdin.write(json.dumps({"cmd": cmd, **fields}).encode() + b"\n")
            await self.process.stdin.drain()
            answer: dict[str, Any] = json.loads(await asyncio.wait_for(self.process.stdout.readline(), 15))
        assert answer.pop("ok"), answer
        return answer

    async def stats(self) -> dict[str, Any]:
        return await self.command("stats")

    async def received(self) -> list[dict[str, Any]]:
        messages: list[dict[str, Any]] = (await self.command("received"))["messages"]
        return messages


@asynccontextmanager
async def smsc(env: PeerEnv, **settings: Any) -> AsyncIterator[SmscPeer]:
    process = await asyncio.create_subprocess_exec(
        env.node,
        str(PEER_SCRIPT),
        *("--port", "0", "--system-id", SYSTEM_ID, "--password", PASSWORD),
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        env={**os.environ, "NODE_PATH": env.node_path},
    )
    try:
        assert process.stdout is not None
        first = json.loads(await asyncio.wait_for(process.stdout.readline(), 15))
        peer = SmscPeer(process, first["listening"])
        if settings:
            await peer.command("config", **settings)
        yield peer
    finally:
        await _end(process)


async def _end(process: asyncio.subprocess.Process) -> None:
    if process.stdin is not None:
        process.stdin.close()
    try:
        await asyncio.wait_for(process.wait(), 5)
    except TimeoutError:
        process.kill()
        await process.wait()


@dataclass
class RecordingEvents:
    """The telroute side of CarrierEvents: records what the carrier hands over."""

    receipts: list[CarrierReceipt] = field(default_factory=list)
    messages: list[CarrierInbound] = field(default_factory=list)
    gate: asyncio.Event | None = None
    fail_inbound: bool = False

    async def receipt(self, receipt: CarrierReceipt) -> None:
        self.receipts.append(receipt)

    async def inbound(self, message: CarrierInbound) -> None:
        if self.gate is not None:
            await self.gate.wait()
        if self.fail_inbound:
            raise RuntimeError("database is down")
        self.messages.append(message)


def link(peer: SmscPeer, **overrides: Any) -> SmppLinkConfig:
    config = SmppLinkConfig(
        name="upstream",
        host="127.0.0.1",
        port=peer.port,
        system_id=SYSTEM_ID,
        password=PASSWORD,
        response_timeout=2.0,
        enquire_link_interval=5.0,
        reconnect_max_delay=0.5,
    )
    return replace(config, **overrides)


@asynccontextmanager
async def carrier(config: SmppLinkConfig) -> AsyncIterator[tuple[SmppCarrier, RecordingEvents]]:
    record = RecordingEvents()
    smpp = SmppCarrier(config)
    await smpp.start(record)
    try:
        yield smpp, record
    finally:
        await smpp.stop()


def message(n: int, body: str | None = None) -> OutboundMessage:
    return OutboundMessage(f"mdr2-{n}", "12065550100", f"1206555{n:04d}", body if body is not None else f"msg {n}")


async def eventually(check: Callable[[], Awaitable[bool]] | Callable[[], bool], timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while True:
        outcome = check()
        if await outcome if isinstance(outcome, Awaitable) else outcome:
            return
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(0.02)


def run(coroutine: Coroutine[Any, Any, None]) -> None:
    asyncio.run(coroutine)


# --- tests ----------------------------------------------------------------------------------------


def test_bind_submit_and_receipt(peer_env: PeerEnv) -> None:
    async def scenario() -> None:
        async with smsc(peer_env) as peer, carrier(link(peer, enquire_link_interval=0.2)) as (smpp, events):
            assert smpp.status()["bound"] is True
            result = await smpp.submit(message(1, "Hello {world} €5"))
            assert len(result.carrier_message_ids) == 1
            await eventually(lambda: len(events.receipts) == 1)
            assert events.receipts[0] == CarrierReceipt("upstream", result.carrier_message_ids[0], "DELIVRD", 0)
            [got] = await peer.received()
            assert (got["text"], got["from"], got["to"], got["data_coding"]) == (
                "Hello {world} €5",
                "12065550100",
                "12065550001",
                0,
            )
            await asyncio.sleep(0.5)
            assert (await peer.stats())["enquire_links"] >= 1
            assert (await peer.command("enquire"))["statuses"] == [0]
            status = smpp.status()
            assert (status["sent"], status["receipts"], status["errors"], status["in_flight"]) == (1, 1, 0, 0)

    run(scenario())


def test_link_settings_stored_as_json_drive_a_link(peer_env: PeerEnv) -> None:
    async def scenario() -> None:
        async with smsc(peer_env) as peer:
            stored = json.dumps(link(peer, window=3, max_rate=100, long_messages="payload").to_dict())
            config = SmppLinkConfig.from_dict(json.loads(stored))
            assert config == link(peer, window=3, max_rate=100, long_messages="payload")
            async with carrier(config) as (smpp, _):
                assert len((await smpp.submit(message(1, "x" * 300))).carrier_message_ids) == 1

    run(scenario())


def test_link_settings_are_validated() -> None:
    with pytest.raises(ValueError, match="window must be at least 1; bind_mode"):
        SmppLinkConfig("x", "127.0.0.1", 2775, "sys", "pw", window=0, bind_mode="outbind")
    with pytest.raises(ValueError, match="unknown SMPP link settings: colour"):
        SmppLinkConfig.from_dict({"name": "x", "host": "h", "port": 1, "system_id": "s", "password": "p", "colour": 1})


def test_stop_unbinds_gracefully(peer_env: PeerEnv) -> None:
    async def scenario() -> None:
        async with smsc(peer_env) as peer:
            async with carrier(link(peer)) as (smpp, _):
                await smpp.submit(message(1))
            stats = await peer.stats()
            assert (stats["unbinds"], stats["bound_sessions"]) == (1, 0)
            assert smpp.status()["bound"] is False

    run(scenario())


def test_wrong_password_is_refused_and_visible(peer_env: PeerEnv) -> None:
    async def scenario() -> None:
        async with smsc(peer_env) as peer, carrier(link(peer, password="wrong")) as (smpp, _):
            status = smpp.status()
            assert status["bound"] is False
            assert "ESME_RINVPASWD" in status["last_error"]
            with pytest.raises(TransientCarrierError, match="not bound"):
                await smpp.submit(message(1))
            assert (await peer.received()) == []
            assert (await peer.stats())["bind_failures"] >= 1

    run(scenario())


def test_refused_bind_recovers_and_the_queued_message_goes_out(peer_env: PeerEnv) -> None:
    async def scenario() -> None:
        async with smsc(peer_env, refuse_binds=True) as peer, carrier(link(peer)) as (smpp, _):
            assert "ESME_RBINDFAIL" in smpp.status()["last_error"]
            with pytest.raises(TransientCarrierError):
                await smpp.submit(message(1))
            await peer.command("config", refuse_binds=False)
            await eventually(lambda: smpp.status()["bound"])
            await smpp.submit(message(1))  # the job queue's retry
            assert [m["text"] for m in await peer.received()] == ["msg 1"]

    run(scenario())


async def submit_until_accepted(
    smpp: SmppCarrier, outbound: OutboundMessage, failures: list[BaseException], deadline: float
) -> SubmitResult:
    """What the delivery job does: a transient failure is retried, anything else propagates."""
    while True:
        try:
            return await smpp.submit(outbound)
        except TransientCarrierError as exc:
            failures.append(exc)
            if time.monotonic() > deadline:
                raise
            await asyncio.sleep(0.05)


def test_smsc_restart_mid_stream_loses_nothing(peer_env: PeerEnv) -> None:
    async def scenario() -> None:
        async with smsc(peer_env, dlr_delay_ms=100) as peer, carrier(link(peer)) as (smpp, events):
            failures: list[BaseException] = []
            deadline = time.monotonic() + 20
            queue = [message(n) for n in range(60)]
            results: dict[str, SubmitResult] = {}
            a_third_through = asyncio.Event()

            async def worker() -> None:
                while queue:
                    outbound = queue.pop(0)
                    results[outbound.public_id] = await submit_until_accepted(smpp, outbound, failures, deadline)
                    if len(results) >= 20:
                        a_third_through.set()
                    await asyncio.sleep(0.02)

            async def restart_midway() -> None:
                await a_third_through.wait()
                await peer.command("restart", down_ms=300)

            await asyncio.gather(restart_midway(), *(worker() for _ in range(6)))
            assert len(results) == 60
            assert failures, "the restart happened after every message was already through"
            ids = {i for result in results.values() for i in result.carrier_message_ids}
            await eventually(lambda: ids <= {r.carrier_message_id for r in events.receipts}, timeout=10)
            assert {m["text"] for m in await peer.received()} >= {f"msg {n}" for n in range(60)}
            assert smpp.status()["binds"] >= 2

    run(scenario())


def test_dropped_connection_and_smsc_unbind_reconnect(peer_env: PeerEnv) -> None:
    async def scenario() -> None:
        async with smsc(peer_env) as peer, carrier(link(peer)) as (smpp, _):
            await peer.command("drop")
            await eventually(lambda: smpp.status()["binds"] == 2)
            await smpp.submit(message(1))
            await peer.command("unbind")
            await eventually(lambda: smpp.status()["binds"] == 3)
            await smpp.submit(message(2))
            assert "unbound by the SMSC" in smpp.status()["last_error"]
            assert len(await peer.received()) == 2

    run(scenario())


def test_unanswered_submit_times_out_as_transient(peer_env: PeerEnv) -> None:
    async def scenario() -> None:
        async with (
            smsc(peer_env, response_delay_ms=800) as peer,
            carrier(link(peer, response_timeout=0.3)) as (smpp, _),
        ):
            with pytest.raises(TransientCarrierError, match=r"no submit_sm_resp within 0\.3s"):
                await smpp.submit(message(1))
            await peer.command("config", response_delay_ms=0)
            await eventually(lambda: smpp.status()["binds"] == 2)  # an SMSC that went quiet gets a new session
            await smpp.submit(message(2))
            status = smpp.status()
            assert (status["bound"], status["sent"], status["errors"]) == (True, 1, 2)

    run(scenario())


def test_generic_nack_to_a_submit_is_transient(peer_env: PeerEnv) -> None:
    async def scenario() -> None:
        async with smsc(peer_env) as peer, carrier(link(peer)) as (smpp, _):
            await peer.command("fault", kind="nack", count=1)
            with pytest.raises(TransientCarrierError, match=r"generic_nack \(ESME_RINVCMDID"):
                await smpp.submit(message(1))
            await smpp.submit(message(1))
            stats = await peer.stats()
            assert (stats["nacked"], stats["accepted"], stats["binds"]) == (1, 1, 1)

    run(scenario())


def test_unanswered_enquire_link_reconnects(peer_env: PeerEnv) -> None:
    async def scenario() -> None:
        async with smsc(peer_env, answer_enquire_link=False) as peer:
            config = link(peer, enquire_link_interval=0.1, response_timeout=0.2)
            async with carrier(config) as (smpp, _):
                await eventually(lambda: smpp.status()["binds"] >= 2)
                assert "enquire_link failed" in smpp.status()["last_error"]

    run(scenario())


def test_throttling_slows_down_and_everything_is_sent(peer_env: PeerEnv) -> None:
    async def scenario() -> None:
        async with smsc(peer_env) as peer, carrier(link(peer)) as (smpp, _):
            await peer.command("config", throttle_ms=700)
            started = time.monotonic()
            results = await asyncio.gather(*(smpp.submit(message(n)) for n in range(20)))
            elapsed = time.monotonic() - started
            assert len({r.carrier_message_ids for r in results}) == 20
            stats = await peer.stats()
            assert stats["throttled"] > 0
            assert stats["accepted"] == 20
            assert elapsed >= 0.6
            assert smpp.status()["throttled"] == stats["throttled"]

    run(scenario())


def test_max_rate_paces_submits(peer_env: PeerEnv) -> None:
    async def scenario() -> None:
        async with smsc(peer_env) as peer, carrier(link(peer, max_rate=50)) as (smpp, _):
            started = time.monotonic()
            await asyncio.gather(*(smpp.submit(message(n)) for n in range(26)))
            assert time.monotonic() - started >= 0.45  # 25 intervals of 20 ms

    run(scenario())


LONG_GSM = "Long GSM text with {escapes} and € signs. " * 9 + "The end."
LONG_UNICODE = "Привет, мир! Долгое сообщение 😀 " * 6


@pytest.mark.parametrize(
    ("overrides", "text", "parts", "data_coding"),
    [
        ({}, LONG_GSM, 3, 0),
        ({}, LONG_UNICODE, 3, 8),
        ({"data_coding": 3}, "Café crème brûlée. " * 10, 2, 3),
        ({"data_coding": 8}, "plain ascii but sent as UCS-2 " * 3, 2, 8),
        ({"long_messages": "payload"}, LONG_UNICODE, 1, 8),
    ],
)
def test_long_messages_arrive_whole_at_the_peer(
    peer_env: PeerEnv, overrides: dict[str, Any], text: str, parts: int, data_coding: int
) -> None:
    async def scenario() -> None:
        async with smsc(peer_env) as peer, carrier(link(peer, **overrides)) as (smpp, events):
            result = await smpp.submit(message(7, text))
            assert len(result.carrier_message_ids) == parts
            [got] = await peer.received()
            assert got["text"] == text
            assert (got["parts"], got["data_coding"], got["ids"]) == (
                parts,
                data_coding,
                list(result.carrier_message_ids),
            )
            assert got["payload"] is (overrides.get("long_messages") == "payload")
            await eventually(lambda: len(events.receipts) == parts)
            assert {r.carrier_message_id for r in events.receipts} == set(result.carrier_message_ids)

    run(scenario())


@pytest.mark.parametrize(
    "settings",
    [
        {"id_format": "hex", "id_pad": 10, "dlr_id_format": "dec", "dlr_mode": "text"},
        {"id_format": "dec", "id_pad": 12, "dlr_id_format": "hex", "dlr_mode": "tlv"},
        {"id_format": "hex", "id_pad": 0, "dlr_id_format": "same", "dlr_mode": "both", "id_start": 0x1F},
    ],
    ids=["hex-resp-decimal-dlr", "decimal-resp-hex-tlv-dlr", "same-both"],
)
def test_receipts_match_across_hex_and_decimal_ids(peer_env: PeerEnv, settings: dict[str, Any]) -> None:
    async def scenario() -> None:
        async with smsc(peer_env, **settings) as peer, carrier(link(peer)) as (smpp, events):
            results = [await smpp.submit(message(n)) for n in range(12)]
            submitted = [r.carrier_message_ids[0] for r in results]
            await eventually(lambda: len(events.receipts) == 12)
            assert sorted(r.carrier_message_id for r in events.receipts) == sorted(submitted)
            assert all(r.state == "DELIVRD" for r in events.receipts)

    run(scenario())


def test_failed_receipt_carries_state_and_error(peer_env: PeerEnv) -> None:
    async def scenario() -> None:
        async with (
            smsc(peer_env, dlr_stat="UNDELIV", dlr_mode="both") as peer,
            carrier(link(peer)) as (
                smpp,
                events,
            ),
        ):
            result = await smpp.submit(message(1))
            await eventually(lambda: len(events.receipts) == 1)
            assert events.receipts[0] == CarrierReceipt("upstream", result.carrier_message_ids[0], "UNDELIV", 21)

    run(scenario())


def test_concatenated_inbound_is_reassembled(peer_env: PeerEnv) -> None:
    async def scenario() -> None:
        async with smsc(peer_env) as peer, carrier(link(peer)) as (smpp, events):
            gsm = {"parts": ["Hello from a [long] ", "message in three ", "parts €"], "coding": "gsm"}
            ucs2 = {"parts": ["Привет ", "мир 😀"], "coding": "ucs2", "via": "sar", "ref": 7}
            answers = [
                await peer.command("mo", **{"from": "12065550123", "to": "12065550100", "reverse": True, **gsm}),
                await peer.command("mo", **{"from": "12065550124", "to": "12065550100", **ucs2}),
                await peer.command("mo", **{"from": "12065550125", "to": "12065550100", "parts": ["single"]}),
            ]
            assert [a["statuses"] for a in answers] == [[0, 0, 0], [0, 0], [0]]
            assert [(m.from_number, m.to_number, m.body) for m in events.messages] == [
                ("12065550123", "12065550100", "Hello from a [long] message in three parts €"),
                ("12065550124", "12065550100", "Привет мир 😀"),
                ("12065550125", "12065550100", "single"),
            ]
            assert smpp.status()["inbound"] == 3

    run(scenario())


def test_deliver_sm_is_acknowledged_only_after_the_handler(peer_env: PeerEnv) -> None:
    async def scenario() -> None:
        async with smsc(peer_env) as peer, carrier(link(peer)) as (smpp, events):
            events.gate = asyncio.Event()
            mo = asyncio.create_task(peer.command("mo", **{"from": "1", "to": "2", "parts": ["hi"]}))
            await asyncio.sleep(0.3)
            assert not mo.done()  # the peer still waits for deliver_sm_resp
            events.gate.set()
            assert (await mo)["statuses"] == [0]
            events.fail_inbound = True
            failed = await peer.command("mo", **{"from": "1", "to": "2", "parts": ["again"]})
            assert failed["statuses"] == [0x64]  # ESME_RX_T_APPN: the SMSC will try again
            assert [m.body for m in events.messages] == ["hi"]
            assert "database is down" in smpp.status()["last_error"]

    run(scenario())


def test_window_bounds_outstanding_submits(peer_env: PeerEnv) -> None:
    async def scenario() -> None:
        async with smsc(peer_env, response_delay_ms=100) as peer, carrier(link(peer, window=4)) as (smpp, _):
            statuses: list[int] = []

            async def sample() -> None:
                while True:
                    statuses.append(smpp.status()["in_flight"])
                    await asyncio.sleep(0.01)

            sampler = asyncio.create_task(sample())
            started = time.monotonic()
            await asyncio.gather(*(smpp.submit(message(n)) for n in range(20)))
            elapsed = time.monotonic() - started
            sampler.cancel()
            await asyncio.gather(sampler, return_exceptions=True)
            assert (await peer.stats())["max_outstanding"] == 4
            assert max(statuses) == 4
            assert elapsed >= 0.45  # 20 submits, 4 at a time, 100 ms each

    run(scenario())


def test_permanent_refusals(peer_env: PeerEnv) -> None:
    async def scenario() -> None:
        async with smsc(peer_env, reject_status=0x0B) as peer, carrier(link(peer)) as (smpp, _):
            with pytest.raises(PermanentCarrierError) as rejected:
                await smpp.submit(message(1))
            assert (rejected.value.status, rejected.value.code) == ("rejected", 0x0B)
            await peer.command("config", reject_status=0x45)
            with pytest.raises(PermanentCarrierError) as failed:
                await smpp.submit(message(1))
            assert (failed.value.status, failed.value.code) == ("failed", 0x45)
            assert smpp.status()["errors"] == 2
            assert "ESME_RSUBMITFAIL" in smpp.status()["last_error"]

    run(scenario())


def test_invalid_pdus_are_nacked_and_the_session_lives(peer_env: PeerEnv) -> None:
    unknown_command = "00000010" + "00000999" + "00000000" + "00000077"
    deliver_sm_without_nul = "00000014" + "00000005" + "00000000" + "00000078" + "41424344"

    async def scenario() -> None:
        async with smsc(peer_env) as peer, carrier(link(peer)) as (smpp, _):
            await peer.command("raw", hex=unknown_command + deliver_sm_without_nul)
            await eventually(lambda: _nacks(peer, 2))
            assert (await peer.stats())["generic_nacks"] == [0x03, 0x02]
            assert smpp.status()["bound"] is True
            await smpp.submit(message(1))
            assert smpp.status()["binds"] == 1

    run(scenario())


async def _nacks(peer: SmscPeer, count: int) -> bool:
    return len((await peer.stats())["generic_nacks"]) >= count
