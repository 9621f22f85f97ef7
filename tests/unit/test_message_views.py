"""v2.1 and v2.2 as views of one record: numbers in and out, links."""

from __future__ import annotations

from typing import Any

import pytest

from telroute.errors import Unprocessable
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


def test_resources_and_links_follow_the_view() -> None:
    def resource() -> dict[str, Any]:
        return {"attributes": {"to": "13125550123", "from": "12065550100", "body": "x"}}

    assert V22.resource(resource())["attributes"] == {"to": "+13125550123", "from": "+12065550100", "body": "x"}
    assert V21.resource(resource()) == resource()
    assert V22.accepted("mdr2-1", "http://h")["data"]["links"]["self"] == "http://h/v2.2/messages/mdr2-1"
    assert V21.accepted("mdr2-1", "http://h")["data"]["links"]["self"] == "http://h/v2.1/messages/mdr2-1"
    assert of_message({"api_version": "2.2"}) is V22 and of_message({"api_version": "2.1"}) is V21


def test_media_links_follow_the_view() -> None:
    def document() -> dict[str, Any]:
        return {"data": {}, "included": [{"id": "1-a.png", "links": {"self": "http://h/v2.1/media/1-a.png"}}]}

    assert V22.media_links(document(), "http://h")["included"][0]["links"]["self"] == "http://h/v2.2/media/1-a.png"
    assert V21.media_links(document(), "http://h") == document()
    assert V22.media_links({"data": {}}, "http://h") == {"data": {}}
