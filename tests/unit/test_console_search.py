"""The console's search syntax and session cookie: pure rules."""

from __future__ import annotations

import pytest

from telroute.console import session
from telroute.console.search import Query, parse
from telroute.errors import BadRequest


def test_fields_and_free_text_are_told_apart() -> None:
    query = parse(
        'to:"+1 (206) 555-0100" from:13125550123 status:"smsc submit" is:mms hi "two words" DIRECTION:Inbound'
    )
    assert query.to_number == "12065550100"
    assert query.words == ("hi", "two words")
    assert (query.from_number, query.status, query.is_mms, query.direction) == (
        "13125550123",
        "smsc submit",
        True,
        "inbound",
    )


def test_dates_bound_the_time_and_unknown_prefixes_are_words() -> None:
    query = parse("after:2026-01-01 before:2026-01-02T12:00:00Z note:this")
    assert query.after == 1_767_225_600_000_000
    assert query.before == 1_767_355_200_000_000
    assert query.words == ("note:this",)
    assert parse("") == Query()


@pytest.mark.parametrize(
    ("text", "complaint"),
    [
        ("status:bogus", "status: must be one of"),
        ("direction:sideways", "direction: must be one of"),
        ("is:fax", "is: must be"),
        ("after:yesterday", "after: needs a date"),
        ("to:nobody", "to: needs a phone number"),
        ('"unclosed', "unclosed quote"),
        ("a b c d e f g h i", "at most 8"),
    ],
)
def test_bad_terms_are_400s_naming_the_search(text: str, complaint: str) -> None:
    with pytest.raises(BadRequest, match=complaint) as raised:
        parse(text)
    assert raised.value.parameter == "q"


def test_a_session_cookie_holds_only_while_signed_and_unexpired() -> None:
    key = b"k" * 32
    made = session.new_session("account", "12345678", session.fingerprint("hash"), now=1_000)
    cookie = session.encode(made, key)
    assert session.decode(cookie, key, now=1_001) == made
    assert session.decode(cookie, key, now=made.expires) is None
    assert session.decode(cookie, b"x" * 32, now=1_001) is None
    payload, signature = cookie.split(".")
    assert session.decode(payload[:-2] + "AA." + signature, key, now=1_001) is None
    assert session.decode("garbage", key, now=1_001) is None
    assert session.csrf_matches(made, made.csrf) and not session.csrf_matches(made, "other")
