"""Pure rules of the sandbox's callback view: its filters, the outcome of a try, what a timed-out wait
says. No I/O."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final, Literal, get_args

from telroute.errors import BadRequest
from telroute.sandbox_tools.model import describe, one_of, query_of, require_order, text, time_of

Kind = Literal["dlr", "inbound_sms", "inbound_mms"]
Outcome = Literal["delivered", "failed", "dead_lettered"]
KINDS: tuple[Kind, ...] = get_args(Kind)
DELIVERED: Final = "delivered"
FAILED: Final = "failed"  # to be tried again
DEAD_LETTERED: Final = "dead_lettered"  # the last try failed: the callback is a dead letter now
OUTCOMES: tuple[Outcome, ...] = get_args(Outcome)
FILTER_NAMES = ("message_id", "kind", "outcome", "status", "after", "before")
MAX_MESSAGE_ID = 100


@dataclass(frozen=True, slots=True)
class CallbackFilters:
    """What a callback search or wait matches; None: any. `status`: the receiver's HTTP status."""

    message_id: str | None = None
    kind: str | None = None
    outcome: str | None = None
    status: int | None = None
    after: int | None = None
    before: int | None = None

    def query(self) -> dict[str, str | None]:
        return query_of(self)

    def describe(self) -> str:
        return describe(self.query(), "any callback")


def _message_id(params: Mapping[str, str]) -> str | None:
    value = text(params, "message_id")
    if value is not None and len(value) > MAX_MESSAGE_ID:
        raise BadRequest(f"message_id must be at most {MAX_MESSAGE_ID} characters", parameter="message_id")
    return value


def _status(params: Mapping[str, str]) -> int | None:
    value = text(params, "status")
    if value is None:
        return None
    if not value.isascii() or not value.isdigit() or not 100 <= int(value) <= 599:
        raise BadRequest(f"status must be an HTTP status code, 100 to 599 (got {value!r})", parameter="status")
    return int(value)


def parse_filters(params: Mapping[str, str]) -> CallbackFilters:
    filters = CallbackFilters(
        message_id=_message_id(params),
        kind=one_of(params, "kind", KINDS),
        outcome=one_of(params, "outcome", OUTCOMES),
        status=_status(params),
        after=time_of(params, "after"),
        before=time_of(params, "before"),
    )
    require_order(filters.after, filters.before)
    return filters


def outcome_of(status_code: int | None, dead_lettered: bool) -> Outcome:
    if status_code is not None and 200 <= status_code < 300:
        return DELIVERED
    return DEAD_LETTERED if dead_lettered else FAILED


def describe_attempts(attempts: list[Mapping[str, Any]]) -> str:
    """The newest tries, for a wait that timed out."""
    if not attempts:
        return "no callback was tried for the account"
    lines = [
        f"{row['event']} #{row['attempt']} for {row['message_public_id']} to {row['url']}: "
        f"{row['status_code'] if row['status_code'] is not None else row['error']}"
        for row in attempts
    ]
    return "the account's newest callback tries: " + "; ".join(lines)
