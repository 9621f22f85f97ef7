from __future__ import annotations

import re

import pytest

from telroute.kit.clock import format_link_date, format_timestamp, parse_date, system_clock

# 2017-12-22T01:52:39 UTC, the contract's sample timestamp
SAMPLE_S = 1_513_907_559


@pytest.mark.parametrize(
    ("us", "expected"),
    [
        (SAMPLE_S * 1_000_000 + 390_000, "2017-12-22T01:52:39.39Z"),
        (SAMPLE_S * 1_000_000, "2017-12-22T01:52:39.00Z"),
        (SAMPLE_S * 1_000_000 + 5_000, "2017-12-22T01:52:39.00Z"),  # truncated, never rounded up
        (SAMPLE_S * 1_000_000 + 999_999, "2017-12-22T01:52:39.99Z"),
        (SAMPLE_S * 1_000_000 + 10_000, "2017-12-22T01:52:39.01Z"),
        (0, "1970-01-01T00:00:00.00Z"),
        (-1, "1969-12-31T23:59:59.99Z"),
        (-62_135_596_800_000_000, "0001-01-01T00:00:00.00Z"),  # four-digit year below 1000
    ],
)
def test_format_timestamp_has_exactly_two_fractional_digits_and_z(us: int, expected: str) -> None:
    assert format_timestamp(us) == expected
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d\dZ", expected)


@pytest.mark.parametrize(
    ("us", "expected"),
    [
        (SAMPLE_S * 1_000_000 + 390_000, "2017-12-22T01:52:39+00:00"),
        (1_512_086_400_000_000, "2017-12-01T00:00:00+00:00"),
        (-62_135_596_800_000_000, "0001-01-01T00:00:00+00:00"),
        (253_402_300_799_999_999, "9999-12-31T23:59:59+00:00"),
    ],
)
def test_format_link_date(us: int, expected: str) -> None:
    assert format_link_date(us) == expected


DEC_1 = 1_512_086_400_000_000  # 2017-12-01T00:00:00Z
DEC_1_102030 = DEC_1 + (10 * 3600 + 20 * 60 + 30) * 1_000_000


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("2017-12-01", DEC_1),
        ("2017-12-01T10:20:30", DEC_1_102030),  # naive: UTC (the Python SDK sends these)
        ("2017-12-01 10:20:30", DEC_1_102030),
        ("2017-12-01T10:20:30Z", DEC_1_102030),
        ("2017-12-01T10:20:30z", DEC_1_102030),
        ("2017-12-01T10:20:30+00:00", DEC_1_102030),
        ("2017-12-01T12:20:30+02:00", DEC_1_102030),
        ("2017-12-01T05:20:30-05:00", DEC_1_102030),
        ("2017-12-01T10:20:30.5", DEC_1_102030 + 500_000),
        ("2017-12-01T10:20:30.123456Z", DEC_1_102030 + 123_456),
        ("2017-12-01T10:20:30.12+00:00", DEC_1_102030 + 120_000),
        ("  2017-12-01  ", DEC_1),
        ("1970-01-01T00:00:00Z", 0),
        ("1969-12-31T23:59:59.5Z", -500_000),
        ("0001-01-01", -62_135_596_800_000_000),
        ("9999-12-31T23:59:59.999999Z", 253_402_300_799_999_999),
    ],
)
def test_parse_date_accepts_every_contract_format_exactly(raw: str, expected: int) -> None:
    assert parse_date(raw) == expected


@pytest.mark.parametrize("raw", ["", "yesterday", "2017-13-01", "2017-12-32", "12/01/2017", "2017-12-01T25:00:00"])
def test_parse_date_rejects_what_is_not_a_date(raw: str) -> None:
    with pytest.raises(ValueError):
        parse_date(raw)


@pytest.mark.parametrize("raw", ["0001-01-01T00:00:00+01:00", "9999-12-31T23:59:59-01:00"])
def test_parse_date_rejects_instants_outside_the_representable_years(raw: str) -> None:
    with pytest.raises(OverflowError):
        parse_date(raw)


def test_parse_and_link_format_round_trip() -> None:
    us = parse_date("2017-12-01T10:20:30+00:00")
    assert format_link_date(us) == "2017-12-01T10:20:30+00:00"
    assert parse_date(format_link_date(us)) == us
    assert parse_date(format_link_date(parse_date("0001-01-01"))) == parse_date("0001-01-01")


def test_system_clock_is_integer_microseconds_now() -> None:
    import time

    before = time.time_ns() // 1000
    now = system_clock()
    after = time.time_ns() // 1000
    assert isinstance(now, int)
    assert before <= now <= after
