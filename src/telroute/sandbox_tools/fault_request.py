"""The body of `POST /sandbox/faults` as an input Struct: its types and `Meta` are the OpenAPI component.
`fault_rules.parse_rule` stays the judge of what is refused first (always a 422 at the field): it runs
when msgspec refuses the body, and on the attributes msgspec accepted (strict decoding does not coerce,
so they hold the same values as the Struct)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

import msgspec

from telroute.kit.inputs import typed
from telroute.sandbox_tools.fault_rules import (
    MAX_COUNT,
    MAX_DESCRIPTION,
    MAX_EXPIRES_IN,
    MAX_RECEIPT_DELAY,
    MAX_SECONDS,
    STATUS_CODES,
    FaultRule,
    parse_rule,
)

Seconds = Annotated[float, msgspec.Meta(ge=0, le=MAX_SECONDS)]
ReceiptDelay = Annotated[
    float,
    msgspec.Meta(
        ge=0,
        le=MAX_RECEIPT_DELAY,
        description="delivery: seconds before the level-2 receipt (on the deployment's clock).",
    ),
]
Delay = Annotated[Seconds, msgspec.Meta(description="api: the delay of slow, the Retry-After of 429.")]
_MATCH = (
    "delivery: a destination number or prefix (digits, optionally after `+`; the longest matching prefix wins). "
    "api: `*` (the default) or a method and path prefix, like `POST /v2.1/messages`."
)
_OUTCOME = "delivery: delivered, undelivered, expired, rejected (at submit), no_receipt. api: 429, 500, 503 or slow."
Outcome = Literal["delivered", "undelivered", "expired", "rejected", "no_receipt", "429", "500", "503", "slow"]


class FaultRequestAttributes(msgspec.Struct):
    """Other keys are ignored. A rule lasts for `count` uses, `expires_in` seconds, or for ever."""

    kind: Literal["delivery", "api"]
    outcome: Annotated[Outcome | Literal[429, 500, 503], msgspec.Meta(description=_OUTCOME)]
    match: Annotated[str, msgspec.Meta(description=_MATCH)] | None = None
    receipt_delay: ReceiptDelay | None = None
    status_code: Annotated[int, msgspec.Meta(ge=STATUS_CODES[0], le=STATUS_CODES[1])] | None = None
    description: Annotated[str, msgspec.Meta(min_length=1, max_length=MAX_DESCRIPTION)] | None = None
    delay: Delay | None = None
    count: Annotated[int, msgspec.Meta(ge=1, le=MAX_COUNT)] | None = None
    share: Annotated[float, msgspec.Meta(ge=0, le=1)] | None = None
    expires_in: Annotated[float, msgspec.Meta(ge=0, le=MAX_EXPIRES_IN)] | None = None


def read_rule(attributes: dict[str, Any], *, now: int, pointer: str) -> FaultRule:
    typed(attributes, FaultRequestAttributes, pointer, rules=lambda _: parse_rule(attributes, now=now, pointer=pointer))
    return parse_rule(attributes, now=now, pointer=pointer)
