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

import re
from dataclasses import dataclass
from typing import Any, Protocol

_HEX = re.compile(r"[0-9a-f]+")


@dataclass(frozen=True, slots=True)
class ForcedOutcome:
    """What a sandbox fault rule orders for one message: `state` is the receipt's SMPP stat word
    (DELIVRD, UNDELIV, EXPIRED), REJECTD for a refusal at submit, or None for no level-2 receipt;
    `receipt_delay` in seconds (None: the carrier's own); `status_code`/`description` replace the
    receipt's. The simulator obeys it; a real carrier ignores it."""

    state: str | None
    receipt_delay: float | None = None
    status_code: int | None = None
    description: str | None = None


@dataclass(frozen=True, slots=True)
class OutboundMessage:
    public_id: str
    from_number: str
    to_number: str
    body: str | None
    is_mms: bool = False
    media_urls: tuple[str, ...] = ()
    forced: ForcedOutcome | None = None


@dataclass(frozen=True, slots=True)
class CarrierReceipt:
    """A delivery report. `state` uses the SMPP stat words: DELIVRD, UNDELIV, EXPIRED, REJECTD,
    ACCEPTD, UNKNOWN, DELETED, ENROUTE."""

    carrier: str
    carrier_message_id: str
    state: str
    error_code: int | None = None
    status_code: int | None = None  # a forced receipt's code and description (sandbox faults)
    description: str | None = None


@dataclass(frozen=True, slots=True)
class SubmitResult:
    """The carrier's ids, one per submitted part (a long SMS travels as several parts).

    `scheduled` holds receipts the carrier already knows it will report, with their delays in
    seconds (the simulator's); they are recorded in the same transaction as the submit.
    `exact_ids` says that its receipts repeat these ids character for character (the simulator's
    do), so the message side need not store their other spellings (see `id_keys`)."""

    carrier_message_ids: tuple[str, ...]
    scheduled: tuple[tuple[CarrierReceipt, float], ...] = ()
    exact_ids: bool = False


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


class Faults(Protocol):
    """The sandbox's faults on demand as the delivery job sees them: the outcome forced on a message of
    `account_id` to `to_number`, if a rule applies (using it up by one)."""

    async def forced_outcome(self, account_id: int, to_number: str) -> ForcedOutcome | None: ...


class Routes(Protocol):
    """Which carrier takes a message to a number that is not on this server."""

    def carrier_for(self, to_number: str) -> str: ...


class Carriers(Routes, Protocol):
    """The carriers as the delivery job sees them; in a worker, `carriers.registry.CarrierRegistry`,
    which `runtime.py` hands in, so that messaging never imports the registry."""

    def local(self, name: str) -> Carrier | None:
        """The carrier if this worker runs its link, else None."""
        ...

    def held_elsewhere(self, name: str) -> bool:
        """True when another worker runs the link, or this one is starting it."""
        ...


def id_keys(carrier_id: str) -> tuple[str, ...]:
    """The spellings under which `carrier_id` matches: the id itself (lower case, leading zeros
    dropped when it is hex or decimal) and, when it reads as hex, its value in decimal. Two ids
    can denote the same message when their keys intersect; store every key of a submitted id and
    look up every key of a receipt's id.

    Part of the port because both sides match ids by it: SMSCs disagree on how they spell an id
    (`1A2B` in the submit response, `6699` in the receipt; `000123` and `123`), the message side
    stores and looks up these keys, and the SMPP link resolves receipts in memory by them."""
    value = carrier_id.strip().lower()
    if not _HEX.fullmatch(value):
        return (value,)
    literal = value.lstrip("0") or "0"
    as_decimal = str(int(value, 16))
    return (literal,) if as_decimal == literal else (literal, as_decimal)
