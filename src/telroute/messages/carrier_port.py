"""The carrier port: what a carrier receives from the message side and what it reports back.

The message side owns these types and carriers implement them, so the arrow goes one way:
`carriers` imports this module and nothing else of `messages`, and `messages` never imports
`carriers` (the composition root, `runtime.py`, hands the running carriers in).

A carrier is handed one outbound message at a time (`submit`) and reports what happens later
through the `CarrierEvents` it was started with. Every event handler commits before it
returns, so a carrier acknowledges a receipt or an inbound message to its peer only after
telroute has it on disk.

Failures split two ways: `TransientCarrierError` (the link is down, throttled, timed out:
the delivery job retries) and `PermanentCarrierError` (the carrier refused this message:
recorded on the message, never retried).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol


@dataclass(frozen=True, slots=True)
class OutboundMessage:
    public_id: str
    from_number: str
    to_number: str
    body: str | None
    is_mms: bool = False
    media_urls: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class CarrierReceipt:
    """A delivery report. `state` uses the SMPP stat words: DELIVRD, UNDELIV, EXPIRED, REJECTD,
    ACCEPTD, UNKNOWN, DELETED, ENROUTE."""

    carrier: str
    carrier_message_id: str
    state: str
    error_code: int | None = None


@dataclass(frozen=True, slots=True)
class SubmitResult:
    """The carrier's ids, one per submitted part (a long SMS travels as several parts).

    `scheduled` holds receipts the carrier already knows it will report, with their delays in
    seconds (the simulator's); they are recorded in the same transaction as the submit."""

    carrier_message_ids: tuple[str, ...]
    scheduled: tuple[tuple[CarrierReceipt, float], ...] = ()


@dataclass(frozen=True, slots=True)
class CarrierInbound:
    """A mobile-originated message from the outside world (already reassembled)."""

    carrier: str
    from_number: str
    to_number: str
    body: str
    media_urls: tuple[str, ...] = ()


class CarrierError(Exception):
    pass


class TransientCarrierError(CarrierError):
    """Try again later: the message stays queued."""


class PermanentCarrierError(CarrierError):
    """The carrier refused the message for good. `status` is `rejected` or `failed`."""

    def __init__(self, detail: str, *, status: str = "rejected", code: int | None = None) -> None:
        super().__init__(detail)
        self.detail = detail
        self.status = status
        self.code = code


class CarrierEvents(Protocol):
    async def receipt(self, receipt: CarrierReceipt) -> None: ...

    async def inbound(self, message: CarrierInbound) -> None: ...


class Carrier(Protocol):
    name: str

    async def start(self, events: CarrierEvents) -> None: ...

    async def submit(self, message: OutboundMessage) -> SubmitResult: ...

    async def stop(self) -> None: ...

    def status(self) -> dict[str, Any]: ...

