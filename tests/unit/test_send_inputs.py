"""The send and inbound bodies decode into typed Structs, yet refuse exactly as their ordered rules do:
the first bad field in the fixed order (to, from, is_mms, media_urls, body), with its own status."""

from __future__ import annotations

from typing import Annotated, Any

import msgspec
import pytest

from telroute.errors import BadRequest, TelrouteError
from telroute.kit.inputs import typed
from telroute.messages import service
from telroute.messages.inputs import SendAttributes

SMS = {"to": "12065550100", "from": "12062150641", "body": "hi"}
GIF = "https://cdn.example/a.gif"


def refusal(attributes: dict[str, Any], pointer: str = "") -> tuple[int, str, str | None]:
    with pytest.raises(TelrouteError) as caught:
        service.validate_send(attributes, pointer)
    return caught.value.status, caught.value.detail, caught.value.pointer


@pytest.mark.parametrize(
    ("attributes", "expected"),
    [
        # msgspec would name `body` (sent first); the rules name `to`, which comes first in their order
        ({"body": 5, "to": ""}, (400, "to is required", "/to")),
        ({"media_urls": [5], "from": True, "to": "12065550100"}, (400, "from must be a string phone number", "/from")),
        # more than 10 URLs: msgspec refuses max_length, the rules answer 422 as always
        ({**SMS, "media_urls": [GIF] * 11}, (422, "at most 10 media_urls are allowed", "/media_urls")),
        ({**SMS, "body": "x" * 1601, "is_mms": 1}, (400, 'is_mms must be a boolean or "true"/"false"', "/is_mms")),
        ({**SMS, "body": "x" * 1601}, (422, "body is longer than 1600 characters", "/body")),
        ({**SMS, "to": 12065550100.0}, (400, "to must be a string phone number", "/to")),
        ({**SMS, "dlr_callback": 5}, (400, "dlr_callback must be a string URL", "/dlr_callback")),
        ({**SMS, "media_urls": ["x" * 2049]}, (400, "media_urls[] is longer than 2048 characters", "/media_urls")),
    ],
)  # fmt: skip
def test_refusals_follow_the_fixed_order_and_statuses(
    attributes: dict[str, Any], expected: tuple[int, str, str | None]
) -> None:
    assert refusal(attributes) == expected


@pytest.mark.parametrize(
    "attributes",
    [
        {**SMS, "to": 12065550100, "from": 12062150641},
        {**SMS, "is_mms": " TRUE ", "media_urls": [GIF] * 10},
        {**SMS, "is_mms": False, "dlr_callback": "", "unknown": [1, {"x": None}]},
        {**SMS, "body": "é" * 1600},
        {"to": "+12065550100", "from": "2062150641", "media_urls": ["HTTP://cdn.example/a.gif"]},
    ],
)
def test_what_the_rules_accept_the_struct_accepts(attributes: dict[str, Any]) -> None:
    service.validate_send(attributes, "")
    assert isinstance(typed(attributes, SendAttributes, "", rules=pytest.fail), SendAttributes)


class Pair(msgspec.Struct, rename={"from_": "from"}):
    from_: Annotated[int, msgspec.Meta(ge=1)] = 1


def test_a_refusal_the_rules_do_not_know_is_msgspecs_400_at_its_field() -> None:
    seen: list[object] = []
    with pytest.raises(BadRequest) as caught:
        typed({"from": 0}, Pair, "/data/attributes", rules=lambda raw: seen.append(raw.from_))
    assert seen == [0]
    assert (caught.value.detail, caught.value.pointer) == ("Expected `int` >= 1 - at `from`", "/data/attributes/from")


def test_inbound_ignores_send_only_fields_and_keeps_its_order() -> None:
    inbound = service.validate_inbound({**SMS, "is_mms": 5, "dlr_callback": 7}, "")
    assert (inbound.from_number, inbound.to_number, inbound.body) == ("12062150641", "12065550100", "hi")
    with pytest.raises(TelrouteError) as caught:
        service.validate_inbound({"to": 5, "body": 7}, "")
    assert (caught.value.detail, caught.value.pointer) == ("from is required and must be a string", "/from")
