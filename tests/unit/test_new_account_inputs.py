"""The sandbox's new-account body decodes into a typed Struct, yet refuses as its ordered rules do:
numbers, then name, area_code, callbacks' names, then each callback URL (address policy included)."""

from __future__ import annotations

from typing import Any

import pytest

from telroute.errors import TelrouteError
from telroute.kit.addresses import AddressPolicy
from telroute.sandbox_tools.api import new_account

POLICY = AddressPolicy()
HOOK = "https://hooks.example/in"


def refusal(attributes: dict[str, Any]) -> tuple[int, str, str | None]:
    with pytest.raises(TelrouteError) as caught:
        new_account(attributes, "", POLICY)
    return caught.value.status, caught.value.detail, caught.value.pointer


@pytest.mark.parametrize(
    ("attributes", "expected"),
    [
        # msgspec would name `name` (sent first); the rules check `numbers` first, and answer 422
        ({"name": 5, "numbers": 11}, (422, "numbers must be between 0 and 10", "/numbers")),
        ({"numbers": True}, (400, "numbers must be a count or a list of at most 10 phone numbers", "/numbers")),
        ({"numbers": [5]}, (400, "numbers[0]: ", "/numbers/0")),
        ({"area_code": "106", "name": ""}, (400, "name must be a non-empty string of at most 100 characters", "/name")),
        ({"area_code": 206}, (422, "area_code needs numbers: N (how many to buy)", "/area_code")),
        ({"callbacks": {"sms_callback": "http://127.0.0.1/x", "mms_callback": 5}},
         (422, "sms_callback is not allowed: 127.0.0.1 is a private, loopback or link-local address",
          "/callbacks/sms_callback")),
        ({"callbacks": {"sms_callback": 5}}, (400, "sms_callback must be a string URL", "/callbacks/sms_callback")),
        ({"callbacks": {"nope": HOOK}}, (400, "unknown callback type 'nope'; known: ", "/callbacks/nope")),
    ],
)  # fmt: skip
def test_refusals_follow_the_rules_order(attributes: dict[str, Any], expected: tuple[int, str, str]) -> None:
    status, detail, pointer = refusal(attributes)
    assert (status, pointer) == (expected[0], expected[2])
    assert detail.startswith(expected[1]), detail


def test_a_full_body_is_accepted() -> None:
    wanted, callbacks = new_account(
        {"name": " team ", "numbers": 2, "area_code": 206, "callbacks": {"sms_callback": HOOK, "dlr_callback": ""}},
        "",
        POLICY,
    )
    assert (wanted.name, wanted.count, wanted.area_code) == ("team", 2, "1206")
    assert callbacks == {"sms_callback": HOOK, "dlr_callback": None}
