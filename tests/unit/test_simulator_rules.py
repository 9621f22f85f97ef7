"""The simulator's outcome rules, which live in `carriers/simulator.py` alone."""

from __future__ import annotations

import asyncio

import pytest

from telroute.carriers.simulator import SimulatorCarrier, simulator_state
from telroute.messages.carrier_port import ForcedOutcome, OutboundMessage, PermanentCarrierError


@pytest.mark.parametrize(
    ("to", "state"),
    [
        ("12065550001", "UNDELIV"),
        ("12065550002", "EXPIRED"),
        ("12065550004", None),
        ("12065550003", "DELIVRD"),  # 0003 is refused at submit by the simulator carrier itself
        ("12065550005", "DELIVRD"),
        ("12065510001", "UNDELIV"),
        ("12065500010", "DELIVRD"),
    ],
)
def test_simulator_outcome_by_last_four_digits(to: str, state: str | None) -> None:
    assert simulator_state(to) == state


async def test_a_forced_outcome_overrides_the_digit_rules() -> None:
    carrier = SimulatorCarrier(delay=0.5)
    forced = ForcedOutcome("DELIVRD", receipt_delay=3.0, status_code=1001, description="Forced")
    result = await carrier.submit(OutboundMessage("mdr2-x", "12065550100", "12065550001", "hi", forced=forced))
    [(receipt, delay)] = result.scheduled
    assert (receipt.state, receipt.status_code, receipt.description, delay) == ("DELIVRD", 1001, "Forced", 3.0)
    silent = await carrier.submit(
        OutboundMessage("mdr2-y", "12065550100", "12065550100", "hi", forced=ForcedOutcome(None))
    )
    assert silent.scheduled == ()
    with pytest.raises(PermanentCarrierError):
        await carrier.submit(
            OutboundMessage("mdr2-z", "12065550100", "12065550100", "hi", forced=ForcedOutcome("REJECTD"))
        )


async def test_carrier_ids_sort_in_the_order_they_were_given() -> None:
    """The carrier ids land at the right-hand end of `carrier_message_ids`' indexes (`kit/random_ids.py`)."""
    carrier = SimulatorCarrier(delay=0.5)
    given: list[str] = []
    for _ in range(5):
        result = await carrier.submit(OutboundMessage("mdr2-x", "12065550100", "12065550005", "hi"))
        given.extend(result.carrier_message_ids)
        await asyncio.sleep(0.002)
    assert len(given) == 5 and given == sorted(given)
