"""The numbers of a portability check, from each body the clients send."""

from __future__ import annotations

import pytest

from telroute.errors import BadRequest, Unprocessable
from telroute.porting.request import MAX_NUMBERS, numbers_of

FORM = "application/x-www-form-urlencoded; charset=utf-8"


@pytest.mark.parametrize(
    ("raw", "content_type"),
    [
        (b"numbers=%2B14252081174&numbers=18002255277", FORM),  # Python SDK (requests, data=)
        (b"numbers=%2B14252081174%2C18002255277", FORM),
        (b"numbers[0]=%2B14252081174&numbers[1]=18002255277&other=x", FORM),
        (b'{"numbers": ["+14252081174", "18002255277"]}', "application/json"),
        (b'{"numbers": ["+14252081174", 18002255277]}', ""),
        (b'  {"numbers": "+14252081174, 18002255277"}', FORM),  # curl -d labels JSON as a form
        (b'{"data": {"type": "x", "attributes": {"numbers": ["+14252081174", "18002255277"]}}}', "text/plain"),
    ],
)
def test_every_spelling_gives_the_numbers_in_order(raw: bytes, content_type: str) -> None:
    assert numbers_of(raw, content_type) == ["+14252081174", "18002255277"]


def test_repeats_and_blanks_are_dropped() -> None:
    assert numbers_of(b"numbers=1&numbers=%201%20&numbers=&numbers=2,,1", FORM) == ["1", "2"]


def test_the_limit_counts_distinct_numbers_not_list_items() -> None:
    raw = b'{"numbers": ' + str([10**10, 10**10 + 1] * MAX_NUMBERS).encode() + b"}"
    assert numbers_of(raw, "application/json") == [str(10**10), str(10**10 + 1)]


@pytest.mark.parametrize(
    ("raw", "content_type", "error"),
    [
        (b"numbers=%FF", FORM, BadRequest),
        (b"numbers=a%00", FORM, BadRequest),
        (b"numbers=", FORM, Unprocessable),
        (b"{", "application/json", BadRequest),
        (b'{"numbers": [true]}', "application/json", Unprocessable),
        (b'{"numbers": {}}', "application/json", Unprocessable),
        (b'{"numbers": []}', "application/json", Unprocessable),
        (b'{"numbers": ""}', "application/json", Unprocessable),
        (b'{"numbers": [1.5]}', "application/json", Unprocessable),
        (b'{"data": {"attributes": {}}}', "application/json", Unprocessable),
        (b'{"numbers": ' + str(list(range(10**10, 10**10 + MAX_NUMBERS + 1))).encode() + b"}", "", Unprocessable),
    ],
)
def test_bad_bodies_are_refused(raw: bytes, content_type: str, error: type[Exception]) -> None:
    with pytest.raises(error):
        numbers_of(raw, content_type)
