"""The fault-rule body decodes into a typed Struct, yet refuses as `parse_rule` does: the first bad field
in its order (kind, outcome, then the kind's fields, count, share, expires_in), always a 422."""

from __future__ import annotations

from typing import Any

import pytest

from telroute.errors import TelrouteError
from telroute.sandbox_tools.fault_request import read_rule

DELIVERED = {"kind": "delivery", "outcome": "delivered"}


def refusal(attributes: dict[str, Any]) -> tuple[int, str, str | None]:
    with pytest.raises(TelrouteError) as caught:
        read_rule(attributes, now=0, pointer="")
    return caught.value.status, caught.value.detail, caught.value.pointer


@pytest.mark.parametrize(
    ("attributes", "expected"),
    [
        # msgspec would name `outcome` or `count` (sent first); the rules name `kind`, then `delay`
        ({"outcome": 7, "kind": "nope"}, (422, "kind must be one of delivery, api (got 'nope')", "/kind")),
        ({"count": 0, "kind": "api", "outcome": "slow"}, (422, "a slow rule needs delay (seconds)", "/delay")),
        ({**DELIVERED, "match": "1206", "share": 2}, (422, "share must be a number from 0 to 1", "/share")),
        ({**DELIVERED, "match": 5}, (422, "match must be a destination number", "/match")),
        ({"kind": "api", "outcome": "500", "count": True}, (422, "count must be a whole number from 1", "/count")),
    ],
)  # fmt: skip
def test_refusals_follow_the_rules_order(attributes: dict[str, Any], expected: tuple[int, str, str]) -> None:
    status, detail, pointer = refusal(attributes)
    assert (status, pointer) == (expected[0], expected[2])
    assert detail.startswith(expected[1]), detail


def test_what_the_rules_accept_decodes() -> None:
    rule = read_rule({"kind": "api", "outcome": 429, "delay": 2, "share": 1, "other": {}}, now=0, pointer="")
    assert (rule.kind, rule.match, rule.outcome, rule.seconds, rule.share) == ("api", "*", "429", 2.0, 1.0)
    rule = read_rule({"kind": "delivery", "outcome": "rejected", "match": " +1206 ", "count": 3}, now=0, pointer="")
    assert (rule.match, rule.remaining) == ("1206", 3)
