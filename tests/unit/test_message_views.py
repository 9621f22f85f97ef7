"""v2.1 and v2.2 as views of one record: numbers in and out, links."""

from __future__ import annotations

from typing import Any

import msgspec
import pytest

from telroute.errors import Unprocessable
from telroute.messages import schemas
from telroute.messages.views import V21, V22, of_message


def test_v22_reads_e164_and_v21_reads_as_given() -> None:
    attributes = {"to": "+13125550123", "from": "+12065550100", "body": "+1"}
    assert V22.numbers_in(attributes, "") == {"to": "13125550123", "from": "12065550100", "body": "+1"}
    assert V21.numbers_in(attributes, "/data/attributes") is attributes


@pytest.mark.parametrize("value", ["13125550123", "+", "+1312555012x", "+١٢٣", 13125550123, True, []])
def test_v22_refuses_what_is_not_e164_with_a_pointer(value: Any) -> None:
    with pytest.raises(Unprocessable) as raised:
        V22.numbers_in({"to": value}, "/data/attributes")
    assert raised.value.pointer == "/data/attributes/to"


def test_a_missing_number_is_left_to_the_shared_validation() -> None:
    assert V22.numbers_in({"to": None}, "") == {"to": None}


def _message(**extra: Any) -> dict[str, Any]:
    return {
        "public_id": "mdr2-" + "0" * 32,
        "body": "x",
        "status": "delivered",
        "direction": "outbound",
        "amount_nd": 4_000_000,
        "to_number": "13125550123",
        "from_number": "12065550100",
        "message_encoding": 0,
        "created_at_us": 1_700_000_000_000_000,
        "is_mms": False,
        "message_type": "longcode",
        **extra,
    }


def _media() -> dict[str, Any]:
    return {
        "public_id": "1-a.png",
        "url": "http://m/a.png",
        "file_name": "a.png",
        "mime_type": "image/png",
        "file_size": 1,
    }


def test_resources_and_links_follow_the_view() -> None:
    v22 = V22.mdr(schemas.mdr(_message(), [])).attributes
    assert (v22.to, v22.from_, v22.body) == ("+13125550123", "+12065550100", "x")
    v21 = V21.mdr(schemas.mdr(_message(), [])).attributes
    assert (v21.to, v21.from_) == ("13125550123", "12065550100")
    assert V22.accepted("mdr2-1", "http://h").data.links.self == "http://h/v2.2/messages/mdr2-1"
    assert V21.accepted("mdr2-1", "http://h").data.links.self == "http://h/v2.1/messages/mdr2-1"
    assert of_message({"api_version": "2.2"}) is V22 and of_message({"api_version": "2.1"}) is V21


def test_media_links_follow_the_view() -> None:
    def document() -> schemas.MessageDocument:
        return schemas.message_document(_message(is_mms=True), [], [_media()], "http://h")

    def media_link(view_document: schemas.MessageDocument) -> str:
        assert view_document.included is not msgspec.UNSET
        return view_document.included[0].links.self

    assert media_link(V22.message_document(document(), "http://h")) == "http://h/v2.2/media/1-a.png"
    assert media_link(V21.message_document(document(), "http://h")) == "http://h/v2.1/media/1-a.png"
    plain = V22.message_document(schemas.message_document(_message(), [], [], "http://h"), "http://h")
    assert plain.included is msgspec.UNSET and plain.data.attributes.to == "+13125550123"
