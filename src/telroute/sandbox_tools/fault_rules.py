"""Pure rules of sandbox faults on demand: what a rule request may say, and which rule applies. No I/O.

A delivery rule forces the outcome of messages to a destination number or prefix (the longest prefix
wins, over the simulator's digit rules); an API rule answers the account's Flowroute API calls (all of
them, `*`, or those of one method and path prefix) with an error or a delay. Each lasts for `count`
uses, until `expires_in` seconds from now, or for ever; `share` applies it to that fraction of uses."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Any

from telroute.errors import Unprocessable

DELIVERY = "delivery"
API = "api"
KINDS = (DELIVERY, API)
DELIVERY_OUTCOMES = ("delivered", "undelivered", "expired", "rejected", "no_receipt")
API_OUTCOMES = ("429", "500", "503", "slow")
METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")
ANY_CALL = "*"
MAX_SECONDS = 300.0
MAX_RECEIPT_DELAY = 7 * 24 * 3600.0  # long delays are for the virtual clock to skip over
MAX_COUNT = 1_000_000
MAX_EXPIRES_IN = 7 * 24 * 3600.0
MAX_DESCRIPTION = 200
STATUS_CODES = (1000, 1999)  # Flowroute-style receipt codes (telroute's are 1000..1106)
_DIGITS = re.compile(r"\+?([0-9]{1,15})")
_API_MATCH = re.compile(r"(GET|POST|PUT|PATCH|DELETE) (/v2(?:\.1)?(?:/[A-Za-z0-9_.{}\-]*)*)")


@dataclass(frozen=True, slots=True)
class FaultRule:
    """A rule as stored. `match`: digits (delivery), or `*` / `METHOD /path-prefix` (api). `seconds`: the
    receipt delay (delivery) or the response delay and Retry-After (api)."""

    kind: str
    match: str
    outcome: str
    seconds: float | None = None
    status_code: int | None = None
    description: str | None = None
    remaining: int | None = None
    share: float | None = None
    expires_at_us: int | None = None


def _where(pointer: str, name: str) -> str:
    return f"{pointer}/{name}"


def _choice(raw: Any, allowed: tuple[str, ...], name: str, pointer: str) -> str:
    value = str(raw) if isinstance(raw, int) and not isinstance(raw, bool) else raw
    if not isinstance(value, str) or value not in allowed:
        raise Unprocessable(f"{name} must be one of {', '.join(allowed)} (got {raw!r})", pointer=_where(pointer, name))
    return value


def _number(raw: Any, name: str, pointer: str, *, low: float, high: float) -> float | None:
    if raw is None:
        return None
    if isinstance(raw, bool) or not isinstance(raw, int | float) or not math.isfinite(raw) or not low <= raw <= high:
        raise Unprocessable(f"{name} must be a number from {low:g} to {high:g}", pointer=_where(pointer, name))
    return float(raw)


def _whole(raw: Any, name: str, pointer: str, *, low: int, high: int) -> int | None:
    if raw is None:
        return None
    if isinstance(raw, bool) or not isinstance(raw, int) or not low <= raw <= high:
        raise Unprocessable(f"{name} must be a whole number from {low} to {high}", pointer=_where(pointer, name))
    return raw


def _delivery_match(raw: Any, pointer: str) -> str:
    found = _DIGITS.fullmatch(raw.strip()) if isinstance(raw, str) else None
    if found is None:
        raise Unprocessable(
            "match must be a destination number or prefix: 1 to 15 digits, optionally after a +",
            pointer=_where(pointer, "match"),
        )
    return found.group(1)


def _api_match(raw: Any, pointer: str) -> str:
    value = raw.strip() if isinstance(raw, str) else None
    if value is None or (value != ANY_CALL and _API_MATCH.fullmatch(value) is None):
        raise Unprocessable(
            "match must be * (every API call) or a method and a path prefix under /v2 or /v2.1, "
            "like `POST /v2.1/messages`",
            pointer=_where(pointer, "match"),
        )
    return value


def _description(raw: Any, pointer: str) -> str | None:
    if raw is None:
        return None
    if not isinstance(raw, str) or not raw.strip() or len(raw) > MAX_DESCRIPTION:
        raise Unprocessable(
            f"description must be a non-empty string of at most {MAX_DESCRIPTION} characters",
            pointer=_where(pointer, "description"),
        )
    return raw.strip()


def _delivery_rule(attributes: dict[str, Any], pointer: str) -> FaultRule:
    outcome = _choice(attributes.get("outcome"), DELIVERY_OUTCOMES, "outcome", pointer)
    code = _whole(attributes.get("status_code"), "status_code", pointer, low=STATUS_CODES[0], high=STATUS_CODES[1])
    description = _description(attributes.get("description"), pointer)
    delay = _number(attributes.get("receipt_delay"), "receipt_delay", pointer, low=0, high=MAX_RECEIPT_DELAY)
    if outcome in ("rejected", "no_receipt"):
        for name, value in (("status_code", code), ("description", description), ("receipt_delay", delay)):
            if value is not None:
                raise Unprocessable(f"{name} has no meaning for outcome {outcome}", pointer=_where(pointer, name))
    return FaultRule(DELIVERY, _delivery_match(attributes.get("match"), pointer), outcome, delay, code, description)


def _api_rule(attributes: dict[str, Any], pointer: str) -> FaultRule:
    outcome = _choice(attributes.get("outcome"), API_OUTCOMES, "outcome", pointer)
    delay = _number(attributes.get("delay"), "delay", pointer, low=0, high=MAX_SECONDS)
    if outcome == "slow" and delay is None:
        raise Unprocessable("a slow rule needs delay (seconds)", pointer=_where(pointer, "delay"))
    return FaultRule(API, _api_match(attributes.get("match", ANY_CALL), pointer), outcome, delay)


def parse_rule(attributes: dict[str, Any], *, now: int, pointer: str) -> FaultRule:
    """A new rule from a request's attributes; 422 pointing at the first bad field."""
    kind = _choice(attributes.get("kind"), KINDS, "kind", pointer)
    rule = _delivery_rule(attributes, pointer) if kind == DELIVERY else _api_rule(attributes, pointer)
    count = _whole(attributes.get("count"), "count", pointer, low=1, high=MAX_COUNT)
    share = _number(attributes.get("share"), "share", pointer, low=0, high=1)
    expires_in = _number(attributes.get("expires_in"), "expires_in", pointer, low=0, high=MAX_EXPIRES_IN)
    expires_at = None if expires_in is None else now + int(expires_in * 1_000_000)
    return FaultRule(
        rule.kind,
        rule.match,
        rule.outcome,
        rule.seconds,
        rule.status_code,
        rule.description,
        remaining=count,
        share=share,
        expires_at_us=expires_at,
    )


def applies_to_call(match: str, method: str, path: str) -> bool:
    """Whether an API rule's match covers this call (`HEAD` counts as `GET`)."""
    if match == ANY_CALL:
        return True
    rule_method, _, prefix = match.partition(" ")
    return rule_method == ("GET" if method == "HEAD" else method) and path.startswith(prefix)


def drawn(share: float | None, draw: float) -> bool:
    """Whether a use with the random `draw` (in [0, 1)) falls in the rule's share (none: every use)."""
    return share is None or draw < share
