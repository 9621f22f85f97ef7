"""Pure rules of messaging: ids, statuses, receipt codes, prices. No I/O."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from telroute.config import Prices
from telroute.kit.random_ids import time_ordered_hex
from telroute.text.segments import Encoding, count_segments, encoding_of

__all__ = ["Encoding"]


class Status(StrEnum):
    """An outbound message's status (an inbound message's is the empty string)."""

    QUEUED = "queued"
    SUBMITTED = "smsc submit"
    BUFFERED = "message buffered"
    DELIVERED = "delivered"
    UNDELIVERED = "undelivered"
    FAILED = "failed"
    EXPIRED = "expired"
    REJECTED = "rejected"


QUEUED = Status.QUEUED
SUBMITTED = Status.SUBMITTED
BUFFERED = Status.BUFFERED
DELIVERED = Status.DELIVERED
FINAL_STATUSES = frozenset(
    status.value for status in (Status.DELIVERED, Status.UNDELIVERED, Status.EXPIRED, Status.REJECTED, Status.FAILED)
)
STATUSES = tuple(status.value for status in Status)
MAX_BODY_CHARACTERS = 1600
MAX_MEDIA_URLS = 10


@dataclass(frozen=True, slots=True)
class ReceiptOutcome:
    status: str
    code: int
    description: str

    @property
    def final(self) -> bool:
        return self.status in FINAL_STATUSES


DELIVERED_OUTCOME = ReceiptOutcome(DELIVERED, 1000, "Message delivered to handset")
BUFFERED_OUTCOME = ReceiptOutcome(BUFFERED, 1003, "Message accepted by Carrier")

# Level-2 receipts by the SMPP `stat` word; telroute's codes (Flowroute's full table is not public).
OUTCOMES_BY_STATE = {
    "DELIVRD": DELIVERED_OUTCOME,
    "ACCEPTD": BUFFERED_OUTCOME,
    "ENROUTE": BUFFERED_OUTCOME,
    "UNDELIV": ReceiptOutcome(Status.UNDELIVERED, 1100, "Message could not be delivered to handset"),
    "EXPIRED": ReceiptOutcome(Status.EXPIRED, 1101, "Message expired before it could be delivered"),
    "REJECTD": ReceiptOutcome(Status.REJECTED, 1102, "Message rejected by carrier"),
    "DELETED": ReceiptOutcome(Status.FAILED, 1103, "Message deleted by carrier"),
    "UNKNOWN": ReceiptOutcome(Status.FAILED, 1104, "Message state unknown at carrier"),
}
SUBMIT_REJECTED = ReceiptOutcome(Status.REJECTED, 1102, "Message rejected by carrier")
SUBMIT_FAILED = ReceiptOutcome(Status.FAILED, 1105, "Message could not be submitted to carrier")
EXPIRED_IN_QUEUE = ReceiptOutcome(Status.EXPIRED, 1106, "Message expired before a carrier accepted it")


def outcome_of_state(state: str) -> ReceiptOutcome:
    return OUTCOMES_BY_STATE.get(state.upper(), OUTCOMES_BY_STATE["UNKNOWN"])


def overridden(outcome: ReceiptOutcome, code: int | None, description: str | None) -> ReceiptOutcome:
    """The outcome with a forced receipt's code and description (sandbox faults), where given."""
    return ReceiptOutcome(outcome.status, outcome.code if code is None else code, description or outcome.description)


def reported_outcome(state: str, code: int | None, description: str | None) -> ReceiptOutcome:
    """The outcome of a carrier's report of `state`; `code` and `description`: a forced receipt's (sandbox
    faults), replacing those of the state."""
    return overridden(outcome_of_state(state), code, description)


def report_error(outcome: ReceiptOutcome, state: str) -> str | None:
    """The MDR's error after a report of `state`: the state word, when it ends the message undelivered."""
    return None if outcome.status == DELIVERED or not outcome.final else state.upper()


def submit_outcome(status: str, detail: str) -> ReceiptOutcome:
    base = SUBMIT_REJECTED if status == Status.REJECTED else SUBMIT_FAILED
    return ReceiptOutcome(base.status, base.code, f"{base.description}: {detail}"[:200])


def new_message_id() -> str:
    return "mdr2-" + time_ordered_hex()


def is_message_id(text: str) -> bool:
    tail = text.removeprefix("mdr2-")
    return len(text) == 37 and text.startswith("mdr2-") and all(c in "0123456789abcdef" for c in tail)


@dataclass(frozen=True, slots=True)
class Pricing:
    encoding: Encoding
    segments: int
    amount_nd: int


def price_outbound(body: str | None, is_mms: bool, prices: Prices) -> Pricing:
    text = body or ""
    segments = count_segments(text)
    amount = prices.outbound_mms if is_mms else prices.outbound_sms_per_segment * segments
    return Pricing(encoding_of(text), 1 if is_mms else segments, amount)


def price_inbound(body: str | None, is_mms: bool, prices: Prices) -> Pricing:
    text = body or ""
    return Pricing(encoding_of(text), count_segments(text), prices.inbound_mms if is_mms else prices.inbound_sms)


def amount_display(nd: int) -> str:
    """`$0.0040`: dollars with four decimals, rounded half up, from integer nanodollars."""
    ten_thousandths = (nd + 50_000) // 100_000
    return f"${ten_thousandths // 10_000}.{ten_thousandths % 10_000:04d}"


def parse_is_mms(raw: object) -> bool | None:
    """`is_mms` as a JSON boolean or the strings "true"/"false"; None when it is neither."""
    if isinstance(raw, bool):
        return raw
    if isinstance(raw, str) and raw.strip().lower() in ("true", "false"):
        return raw.strip().lower() == "true"
    return None
