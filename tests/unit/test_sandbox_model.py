"""The sandbox tools' pure rules: one-time codes in a body, message filters, the wait timeout."""

from __future__ import annotations

import pytest

from telroute.errors import BadRequest, Unprocessable
from telroute.sandbox_tools.codes import one_time_codes
from telroute.sandbox_tools.model import MessageFilters, format_moment, parse_filters, parse_timeout


@pytest.mark.parametrize(
    ("body", "codes"),
    [
        ("Your code is 482913", ["482913"]),
        ("Code: 4829. Valid 10 min.", ["4829"]),
        ("use 123-456 to sign in", ["123456"]),
        ("use 123 456 to sign in", ["123456"]),
        ("use 1234 5678 or 1234-5678", ["12345678"]),
        ("G-123456 is your Google code", []),  # glued to letters by a hyphen: not alone
        ("12345678 then 87654321", ["12345678", "87654321"]),
        ("482913 and again 482913", ["482913"]),
        ("123", []),
        ("123456789", []),  # nine digits: not a code
        ("call +12065551234 or 206-555-1234 or (206) 555-1234", []),
        ("total $1234.50, 1,234 items, v2024.1", []),
        ("on 2026-12-06 at 12:30", []),
        ("code \u0661\u0662\u0663\u0664", []),  # Arabic-Indic digits are not ASCII digits
        ("", []),
        (None, []),
        ("(code 9876)", ["9876"]),
        ("code:7777!", ["7777"]),
    ],
)
def test_one_time_codes(body: str | None, codes: list[str]) -> None:
    assert one_time_codes(body) == codes


def test_filters_are_normalized_and_described() -> None:
    filters = parse_filters({"to": "+12065551234", "from": "2065550000", "direction": "inbound", "contains": "Hi"})
    assert filters == MessageFilters(direction="inbound", to="12065551234", from_="12065550000", contains="Hi")
    assert filters.describe() == "direction='inbound', to='12065551234', from='12065550000', contains='Hi'"
    assert MessageFilters().describe() == "no filters (any message)"


def test_moments_keep_microseconds_and_need_no_plus() -> None:
    moment = parse_filters({"after": "2026-12-06T16:00:00.123456+00:00"}).after
    assert moment is not None
    assert format_moment(moment) == "2026-12-06T16:00:00.123456Z"
    assert parse_filters({"after": format_moment(moment)}).after == moment


@pytest.mark.parametrize(
    ("params", "error", "parameter"),
    [
        ({"direction": "sideways"}, BadRequest, "direction"),
        ({"status": "gone"}, BadRequest, "status"),
        ({"to": "555"}, BadRequest, "to"),
        ({"before": "2026-01-01", "after": "2026-01-01"}, Unprocessable, "before"),
    ],
)
def test_bad_filters(params: dict[str, str], error: type[Exception], parameter: str) -> None:
    with pytest.raises(error) as raised:
        parse_filters(params)
    assert getattr(raised.value, "parameter", None) == parameter


@pytest.mark.parametrize(("raw", "seconds"), [(None, 10.0), ("", 10.0), ("0", 0.0), ("2.5", 2.5), ("60", 60.0)])
def test_timeouts(raw: str | None, seconds: float) -> None:
    assert parse_timeout(raw) == seconds


@pytest.mark.parametrize(
    ("raw", "error"), [("x", BadRequest), ("nan", BadRequest), ("-inf", BadRequest), ("-0.1", Unprocessable)]
)
def test_bad_timeouts(raw: str, error: type[Exception]) -> None:
    with pytest.raises(error):
        parse_timeout(raw)
