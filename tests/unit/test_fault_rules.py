"""The pure rules of sandbox faults: parsing a rule request, matching API calls, shares."""

from __future__ import annotations

from typing import Any

import pytest

from telroute.errors import Unprocessable
from telroute.sandbox_tools.fault_rules import FaultRule, applies_to_call, drawn, parse_rule

NOW = 1_000_000_000


def test_a_delivery_rule_keeps_digits_and_its_limits() -> None:
    attributes = {"kind": "delivery", "match": "+1312555", "outcome": "undelivered", "count": 3, "expires_in": 2.5}
    rule = parse_rule(attributes, now=NOW, pointer="")
    assert rule == FaultRule("delivery", "1312555", "undelivered", remaining=3, expires_at_us=NOW + 2_500_000)


def test_an_api_rule_takes_numbers_or_strings_and_matches_every_call_by_default() -> None:
    rule = parse_rule({"kind": "api", "outcome": 429, "delay": 3, "share": 0.5}, now=NOW, pointer="/data/attributes")
    assert (rule.match, rule.outcome, rule.seconds, rule.share) == ("*", "429", 3.0, 0.5)
    assert parse_rule({"kind": "api", "outcome": "503"}, now=NOW, pointer="").outcome == "503"


@pytest.mark.parametrize(
    ("attributes", "field"),
    [
        ({}, "kind"),
        ({"kind": "delivery", "match": 1312, "outcome": "delivered"}, "match"),
        ({"kind": "delivery", "match": "1" * 16, "outcome": "delivered"}, "match"),
        ({"kind": "delivery", "match": "1312", "outcome": "delivered", "count": True}, "count"),
        ({"kind": "delivery", "match": "1312", "outcome": "delivered", "share": float("nan")}, "share"),
        ({"kind": "delivery", "match": "1312", "outcome": "no_receipt", "status_code": 1100}, "status_code"),
        ({"kind": "delivery", "match": "1312", "outcome": "delivered", "description": ""}, "description"),
        ({"kind": "api", "match": "GET /v2/numbers", "outcome": "slow", "delay": 301}, "delay"),
        ({"kind": "api", "match": "FETCH /v2/numbers", "outcome": 500}, "match"),
    ],
)
def test_bad_rules_point_at_their_field(attributes: dict[str, Any], field: str) -> None:
    with pytest.raises(Unprocessable) as raised:
        parse_rule(attributes, now=NOW, pointer="/data/attributes")
    assert raised.value.pointer == f"/data/attributes/{field}"


def test_api_matches_by_method_and_path_prefix() -> None:
    assert applies_to_call("*", "DELETE", "/v2/numbers/12065550100")
    assert applies_to_call("GET /v2/numbers", "HEAD", "/v2/numbers/12065550100")
    assert not applies_to_call("GET /v2/numbers", "POST", "/v2/numbers")
    assert not applies_to_call("POST /v2.1/messages", "POST", "/v2/numbers")


def test_shares() -> None:
    assert drawn(None, 0.99) and drawn(1.0, 0.999) and drawn(0.5, 0.25)
    assert not drawn(0.0, 0.0) and not drawn(0.5, 0.5)
