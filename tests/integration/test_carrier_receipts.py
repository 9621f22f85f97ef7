"""Carrier receipts against the real database, through the real job handlers: a receipt finds its message
by any spelling of the carrier's id (what a process that restarted since the submit relies on), a long
message is delivered when every part is, a message waiting for its carrier is never dropped by the
worker's retry limit, and only a carrier that may respell its ids gets their other spellings stored.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from telroute.accounts import repository as accounts_repository
from telroute.accounts import service as accounts_service
from telroute.bootstrap import Deps
from telroute.carriers import repository as carriers_repository
from telroute.carriers.factory import build_carrier
from telroute.carriers.registry import CarrierRegistry
from telroute.carriers.simulator import SimulatorCarrier
from telroute.kit import jobs
from telroute.kit.db import sql
from telroute.kit.jobs import Job
from telroute.kit.worker import RetryLater
from telroute.messages import delivery, model, repository, tasks
from telroute.messages.carrier_port import Carrier, CarrierEvents, OutboundMessage, SubmitResult
from telroute.messages.service import DELIVER_MESSAGE

CARRIER = "upstream"


@pytest.fixture
def deps(isolated_deps: Deps) -> Deps:
    return isolated_deps


async def queued_message(deps: Deps) -> int:
    async with deps.db.transaction() as connection:
        keys = await accounts_service.create(connection, "receipts", now=deps.clock())
        found = await accounts_repository.by_access_key(connection, keys.access_key)
        assert found is not None
        values: dict[str, Any] = {
            "public_id": model.new_message_id(),
            "account_id": found[0].id,
            "direction": "outbound",
            "from_number": "12065550100",
            "to_number": "13125550123",
            "body": "hello",
            "is_mms": False,
            "status": model.QUEUED,
            "message_encoding": 0,
            "message_type": "longcode",
            "segments": 1,
            "amount_nd": 4_000_000,
            "dlr_callback": None,
            "callback_url": None,
            "now": deps.clock(),
        }
        return await repository.insert(connection, values)


async def submitted(deps: Deps, *carrier_ids: str) -> int:
    """A message the carrier accepted in parts with these ids, recorded as the delivery job does."""
    message_id = await queued_message(deps)
    async with deps.db.transaction() as connection:
        message = await repository.by_id(connection, message_id)
        assert message is not None
        spellings = [tasks.spelling_of(carrier_id) for carrier_id in carrier_ids]
        moved = await delivery.mark_submitted(
            connection, message, CARRIER, carrier_ids, tasks.context(deps), spellings=spellings
        )
    assert moved
    return message_id


async def receipt(deps: Deps, carrier_id: str, state: str = "DELIVRD") -> None:
    """Run the carrier_receipt job a carrier's receipt becomes."""
    payload = {"carrier": CARRIER, "carrier_message_id": carrier_id, "state": state, "error_code": None}
    assert await tasks.receipt_handler(deps)(Job(0, tasks.CARRIER_RECEIPT, payload, 1, 0))


async def status_of(deps: Deps, message_id: int) -> tuple[str, list[tuple[int, str]]]:
    message = await repository.by_id(deps.db, message_id)
    assert message is not None
    found = (await repository.receipts_of(deps.db, [message_id]))[message_id]
    return message["status"], sorted((row["level"], row["status"]) for row in found)


@pytest.mark.parametrize(
    ("submitted_id", "receipt_id"),
    [
        ("00001A2B", "6699"),  # hex in the response, decimal in the receipt
        ("1a2b", "00006699"),
        ("000123", "123"),  # leading zeros
        ("123", "7B"),  # decimal in the response, hex in the receipt
        ("abcDEF", "ABCDEF"),  # case
        ("msg-7", "MSG-7"),  # neither hex nor decimal
    ],
)
async def test_a_receipt_finds_its_message_by_any_spelling_of_the_id(
    deps: Deps, submitted_id: str, receipt_id: str
) -> None:
    message_id = await submitted(deps, submitted_id)
    await receipt(deps, receipt_id)
    assert await status_of(deps, message_id) == ("delivered", [(1, "smsc submit"), (2, "delivered")])
    [part] = await deps.db.fetch(sql("SELECT state FROM carrier_message_ids WHERE message_id = :m"), {"m": message_id})
    assert part["state"] == "DELIVRD"


async def test_an_id_that_reads_both_ways_prefers_the_same_spelling(deps: Deps) -> None:
    decimal_26 = await submitted(deps, "26")  # as hex, 0x26 = 38
    hex_1a = await submitted(deps, "1A")  # 0x1A = 26
    await receipt(deps, "26")
    assert (await status_of(deps, decimal_26))[0] == "delivered"
    assert (await status_of(deps, hex_1a))[0] == "smsc submit"
    await receipt(deps, "0x1a".removeprefix("0x"), "UNDELIV")
    assert (await status_of(deps, hex_1a))[0] == "undelivered"


async def test_a_receipt_passes_over_a_finished_part_matched_only_across_hex_and_decimal(deps: Deps) -> None:
    old = await submitted(deps, "1A")
    await receipt(deps, "1A")
    await receipt(deps, "26")  # the same final state again: a repeated receipt, which changes nothing
    with pytest.raises(RetryLater, match="no message with upstream id 26"):
        await receipt(deps, "26", "UNDELIV")  # more likely the id of a submit not recorded yet
    newer = await submitted(deps, "26")
    await receipt(deps, "26", "UNDELIV")
    assert [(await status_of(deps, m))[0] for m in (old, newer)] == ["delivered", "undelivered"]


async def test_an_unknown_id_is_retried_not_dropped(deps: Deps) -> None:
    await submitted(deps, "5")
    with pytest.raises(RetryLater, match="no message with upstream id 6 yet"):
        await receipt(deps, "6")


async def test_an_unknown_id_is_looked_for_again_soon_then_less_often_and_dropped_after_two_minutes(
    deps: Deps,
) -> None:
    payload = {"carrier": CARRIER, "carrier_message_id": "77", "state": "DELIVRD", "error_code": None}
    handler = tasks.receipt_handler(deps)
    delays: list[float] = []
    for attempts in range(1, 40):
        try:
            assert await handler(Job(0, tasks.CARRIER_RECEIPT, payload, attempts, 0))
            break
        except RetryLater as wait:
            delays.append(wait.delay)
    assert delays[:4] == [0.05, 0.1, 0.2, 0.4]  # the submit's record is usually a moment behind
    assert max(delays) == 15
    assert 100 < sum(delays) < 130


async def test_a_long_message_is_delivered_when_every_part_is(deps: Deps) -> None:
    message_id = await submitted(deps, "0A", "0B", "0C")
    await receipt(deps, "10")  # 0x0A in decimal
    await receipt(deps, "11")
    assert await status_of(deps, message_id) == ("smsc submit", [(1, "smsc submit")])
    await receipt(deps, "11")  # a repeated receipt of a part changes nothing
    assert (await status_of(deps, message_id))[0] == "smsc submit"
    await receipt(deps, "12")
    assert await status_of(deps, message_id) == ("delivered", [(1, "smsc submit"), (2, "delivered")])


async def test_a_long_message_with_a_failed_part_is_undelivered(deps: Deps) -> None:
    message_id = await submitted(deps, "21", "22")
    await receipt(deps, "22", "UNDELIV")
    await receipt(deps, "21", "DELIVRD")
    assert await status_of(deps, message_id) == ("undelivered", [(1, "smsc submit"), (2, "undelivered")])


async def test_a_message_waits_for_its_carrier_beyond_the_workers_retry_limit(deps: Deps) -> None:
    async with deps.db.transaction() as connection:
        await carriers_repository.set_prefix(connection, "", "absent")  # a default route to no carrier yet
    registry = CarrierRegistry(deps.db, deps.clock, SimulatorCarrier(delay=0.0), build_carrier, holder="w")
    await registry.start(tasks.DurableCarrierEvents(deps))
    handler = tasks.deliver_handler(deps, registry)
    message_id = await queued_message(deps)
    async with deps.db.transaction() as connection:
        await jobs.enqueue(connection, DELIVER_MESSAGE, {"message_id": message_id}, now=0)
    [job] = await jobs.claim(deps.db, "w", now=deps.clock(), lease_us=60_000_000, limit=10)
    with pytest.raises(RetryLater, match="carrier absent is not running in any worker"):
        await handler(job)
    near_the_limit = Job(job.id, job.kind, job.payload, 20, job.created_at_us)
    assert await handler(near_the_limit)
    rows = await deps.db.fetch(sql("SELECT id, payload FROM jobs WHERE kind = :k"), {"k": DELIVER_MESSAGE})
    assert [row["id"] != job.id for row in rows] == [True]
    assert json.loads(rows[0]["payload"])["earlier_attempts"] == 20
    assert (await status_of(deps, message_id))[0] == "queued"
    await registry.close()


class FixedCarriers:
    """The port's `Carriers` with one carrier and no registry: what the delivery job needs, and no more."""

    def __init__(self, carrier: Carrier) -> None:
        self._carrier = carrier

    def carrier_for(self, to_number: str) -> str:
        return self._carrier.name

    def local(self, name: str) -> Carrier | None:
        return self._carrier if name == self._carrier.name else None

    def held_elsewhere(self, name: str) -> bool:
        return False


class RespellingCarrier:
    """A carrier whose receipts may spell its ids otherwise (as an SMSC's do)."""

    name = CARRIER

    async def start(self, events: CarrierEvents) -> None:
        return None

    async def submit(self, message: OutboundMessage) -> SubmitResult:
        return SubmitResult(("00001A2B",))

    async def stop(self) -> None:
        return None

    def status(self) -> dict[str, Any]:
        return {"bound": True}


async def stored_spellings(deps: Deps, carrier: Carrier) -> list[tuple[str | None, str | None]]:
    """Deliver one message through `carrier` with the real job handler; the spellings stored of its ids."""
    message_id = await queued_message(deps)
    async with deps.db.transaction() as connection:
        await jobs.enqueue(connection, DELIVER_MESSAGE, {"message_id": message_id}, now=0)
    [job] = await jobs.claim(deps.db, "w", now=deps.clock(), lease_us=60_000_000, limit=10)
    assert await tasks.deliver_handler(deps, FixedCarriers(carrier))(job)
    query = sql("SELECT id_key, id_value FROM carrier_message_ids WHERE message_id = :m")
    return [(row["id_key"], row["id_value"]) for row in await deps.db.fetch(query, {"m": message_id})]


async def test_the_ids_of_a_carrier_are_stored_with_their_spellings_unless_it_reports_them_exactly(
    deps: Deps,
) -> None:
    assert await stored_spellings(deps, RespellingCarrier()) == [("1a2b", "6699")]
    assert await stored_spellings(deps, SimulatorCarrier(delay=0.0)) == [(None, None)]
