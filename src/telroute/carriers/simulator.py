"""The built-in carrier simulator: deterministic outcomes by destination, real (durable) receipts.

By the destination's last four digits: 0001 undelivered, 0002 expired, 0003 rejected at submit,
0004 never a level-2 receipt; anything else is delivered. An optional seeded failure rate turns
other messages undelivered at random, reproducibly. A message that carries a `ForcedOutcome` (a
sandbox fault rule, resolved on the message side) gets that outcome instead of the digit rules.
"""

from __future__ import annotations

import random
from typing import Any

from telroute.carriers.counters import CarrierCounters
from telroute.kit.random_ids import time_ordered_hex
from telroute.messages.carrier_port import (
    CarrierEvents,
    CarrierReceipt,
    ForcedOutcome,
    OutboundMessage,
    PermanentCarrierError,
    SubmitResult,
)

SIMULATOR = "simulator"
REJECT_CODE = 0x45  # ESME_RSUBMITFAIL: what a real SMSC answers for a refused submit
REJECTED_AT_SUBMIT = "0003"
_RECEIPT_STATES: dict[str, str | None] = {"0001": "UNDELIV", "0002": "EXPIRED", "0004": None}


def simulator_state(to_number: str) -> str | None:
    """The receipt state the simulator reports for `to_number`, by its last four digits (the README
    documents them): 0001 UNDELIV, 0002 EXPIRED, 0004 never a level-2 receipt (None); anything else
    DELIVRD. 0003 is refused at submit, before any receipt (`SimulatorCarrier.submit`). The rules
    live here alone, so that the message side knows nothing of how the simulator decides."""
    return _RECEIPT_STATES.get(to_number[-4:], "DELIVRD")


class SimulatorCarrier:
    def __init__(self, *, delay: float, failure_rate: float = 0.0, seed: int = 0) -> None:
        self.name = SIMULATOR
        self._delay = delay
        self._failure_rate = failure_rate
        self._random = random.Random(seed)
        self._counters = CarrierCounters()

    async def start(self, events: CarrierEvents) -> None:
        return None

    async def stop(self) -> None:
        return None

    def status(self) -> dict[str, Any]:
        return {
            "bound": True,
            "in_flight": 0,
            "sent": self._counters.sent,
            "receipts": self._counters.receipts,
            "errors": self._counters.errors,
            "last_error": None,
        }

    async def submit(self, message: OutboundMessage) -> SubmitResult:
        if message.forced is not None:
            return self._forced(message.forced)
        if message.to_number.endswith(REJECTED_AT_SUBMIT):
            self._counters.errors += 1
            raise PermanentCarrierError("destination rejected by the simulator (0003)", code=REJECT_CODE)
        state = simulator_state(message.to_number)
        if state == "DELIVRD" and self._failure_rate and self._random.random() < self._failure_rate:
            state = "UNDELIV"
        return self._accepted(state, self._delay)

    def _forced(self, forced: ForcedOutcome) -> SubmitResult:
        if forced.state == "REJECTD":
            self._counters.errors += 1
            raise PermanentCarrierError("destination rejected by a sandbox fault rule", code=REJECT_CODE)
        delay = self._delay if forced.receipt_delay is None else forced.receipt_delay
        return self._accepted(forced.state, delay, forced.status_code, forced.description)

    def _accepted(
        self, state: str | None, delay: float, status_code: int | None = None, description: str | None = None
    ) -> SubmitResult:
        carrier_id = time_ordered_hex()
        self._counters.sent += 1
        if state is None:
            return SubmitResult((carrier_id,), exact_ids=True)
        self._counters.receipts += 1
        error = None if state == "DELIVRD" else 1
        receipt = CarrierReceipt(SIMULATOR, carrier_id, state, error, status_code, description)
        return SubmitResult((carrier_id,), scheduled=((receipt, delay),), exact_ids=True)
