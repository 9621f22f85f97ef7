from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from telroute.numbers.model import (
    MEMORABLE,
    NANODOLLARS_PER_DOLLAR,
    PREMIUM,
    STANDARD,
    TOLLFREE,
    message_type_of,
    money_display,
    normalize_digits,
    normalize_number,
    normalize_number_type_filter,
    normalize_starts_with,
    number_type_of,
    parse_dollars,
    prefix_upper_bound,
    rate_center_from_city,
    tier_of,
)


def _digits_in(zero: int, ascii_digits: str) -> str:
    """`ascii_digits` written with the Unicode digits whose zero is code point `zero`."""
    return "".join(chr(zero + int(digit)) for digit in ascii_digits)


ARABIC_INDIC = 0x0660
FULLWIDTH = 0xFF10


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("12065551234", "12065551234"),
        ("+12065551234", "12065551234"),
        ("2065551234", "12065551234"),
        ("18005550199", "18005550199"),
    ],
)
def test_normalize_number_accepts_nanp_forms(raw: str, expected: str) -> None:
    assert normalize_number(raw) == expected


@pytest.mark.parametrize(
    "raw",
    [
        "",
        "+",
        "1206555123",  # 10 digits starting with 1: area code would start with 1
        "120655512345",
        "22065551234",  # 11 digits not starting with 1
        "+2065551234",  # + means a country code follows, and it is not 1
        "++12065551234",
        "1206 555 1234",
        " 12065551234",
        "12065551234\n",
        "1206555123a",
        "1-206-555-1234",
        _digits_in(ARABIC_INDIC, "12065551234"),
        "1206555123" + _digits_in(ARABIC_INDIC, "4"),
        _digits_in(FULLWIDTH, "12065551234"),
        "12065551\u00b234",  # superscript two
        "10065551234",  # area code starts with 0
        "11065551234",  # area code starts with 1
        "12060551234",  # exchange starts with 0
        "12061551234",  # exchange starts with 1
    ],
)
def test_normalize_number_rejects(raw: str) -> None:
    with pytest.raises(ValueError, match="phone number"):
        normalize_number(raw)


@given(st.from_regex(r"\A1[2-9][0-9]{2}[2-9][0-9]{6}\Z"))
def test_normalize_number_is_idempotent_on_valid_numbers(value: str) -> None:
    assert normalize_number(value) == value
    assert normalize_number("+" + value) == value
    assert normalize_number(value[1:]) == value


@pytest.mark.parametrize(
    ("raw", "expected"), [("646", "1646"), ("1646", "1646"), ("+1646", "1646"), ("1", "1"), ("2", "12")]
)
def test_normalize_starts_with(raw: str, expected: str) -> None:
    assert normalize_starts_with(raw) == expected


@pytest.mark.parametrize("raw", ["", "+", "64a", "6 46", "++646", _digits_in(ARABIC_INDIC, "646"), "-646"])
def test_normalize_starts_with_rejects(raw: str) -> None:
    with pytest.raises(ValueError, match="starts_with"):
        normalize_starts_with(raw)


def test_normalize_digits_names_the_parameter_and_keeps_the_plus_an_error() -> None:
    assert normalize_digits("0042", "contains") == "0042"
    for raw in ["+42", "4 2", "", _digits_in(ARABIC_INDIC, "42")]:
        with pytest.raises(ValueError, match=r"^ends_with must contain digits only$"):
            normalize_digits(raw, "ends_with")


@pytest.mark.parametrize(
    ("prefix", "bound"),
    [("1646", "1647"), ("1649", "165"), ("1699", "17"), ("1", "2"), ("18", "19"), ("120655512", "120655513")],
)
def test_prefix_upper_bound(prefix: str, bound: str) -> None:
    assert prefix_upper_bound(prefix) == bound


@given(st.from_regex(r"\A[0-9]{1,6}\Z"), st.from_regex(r"\A[0-9]{1,8}\Z"))
def test_prefix_upper_bound_separates_exactly_the_prefixed_digit_strings(prefix: str, other: str) -> None:
    if prefix.strip("9") == "":
        return
    bound = prefix_upper_bound(prefix)
    assert (prefix <= other < bound) == other.startswith(prefix)


@pytest.mark.parametrize("prefix", ["", "9", "999", "16a", _digits_in(ARABIC_INDIC, "1")])
def test_prefix_upper_bound_rejects(prefix: str) -> None:
    with pytest.raises(ValueError):
        prefix_upper_bound(prefix)


@pytest.mark.parametrize("npa", ["800", "833", "844", "855", "866", "877", "888"])
def test_tollfree_area_codes(npa: str) -> None:
    value = f"1{npa}5550199"
    assert number_type_of(value) == "tollfree"
    assert number_type_of(value[1:]) == "tollfree"
    assert message_type_of(value) == "toll-free"


@pytest.mark.parametrize("value", ["12065550199", "18225550199", "18995550199", "16465550199"])
def test_local_area_codes(value: str) -> None:
    assert number_type_of(value) == "standard"
    assert message_type_of(value) == "longcode"


@pytest.mark.parametrize(
    ("raw", "stored"),
    [
        ("standard", "standard"),
        ("longcode", "standard"),
        ("LongCode", "standard"),
        ("tollfree", "tollfree"),
        ("toll-free", "tollfree"),
        ("TOLL-FREE", "tollfree"),
    ],
)
def test_number_type_filter(raw: str, stored: str) -> None:
    assert normalize_number_type_filter(raw) == stored


@pytest.mark.parametrize("raw", ["", "toll free", "local", "mobile", "standard "])
def test_number_type_filter_rejects(raw: str) -> None:
    with pytest.raises(ValueError, match="number_type"):
        normalize_number_type_filter(raw)


def test_tier_prices() -> None:
    dollars = {
        t.name: (money_display(t.setup_cost_nd), money_display(t.monthly_cost_nd))
        for t in (STANDARD, TOLLFREE, MEMORABLE, PREMIUM)
    }
    assert dollars == {
        "standard": (1, 1.25),
        "tollfree": (1, 1.75),
        "memorable": (3.99, 2.5),
        "premium": (9.99, 5),
    }


@pytest.mark.parametrize(
    ("value", "tier"),
    [
        ("12065551847", STANDARD),
        ("12065550001", STANDARD),
        ("12065551123", STANDARD),
        ("12065551111", MEMORABLE),
        ("12065559999", MEMORABLE),
        ("12065551234", MEMORABLE),
        ("12065556789", MEMORABLE),
        ("12065559876", MEMORABLE),
        ("12065553210", MEMORABLE),
        ("12065551212", MEMORABLE),
        ("12065554747", MEMORABLE),
        ("12065551122", MEMORABLE),
        ("12065555000", MEMORABLE),
        ("12065550000", PREMIUM),
        ("12065555555", PREMIUM),
        ("12062222222", PREMIUM),
        ("18005551847", TOLLFREE),
        ("18005551212", MEMORABLE),
        ("18009999999", PREMIUM),
        ("18774440000", PREMIUM),
    ],
)
def test_tier_of(value: str, tier: object) -> None:
    assert tier_of(value) == tier


def test_memorable_numbers_cost_more_than_standard_ones() -> None:
    assert STANDARD.setup_cost_nd < MEMORABLE.setup_cost_nd < PREMIUM.setup_cost_nd
    assert TOLLFREE.setup_cost_nd < MEMORABLE.setup_cost_nd


@pytest.mark.parametrize(
    ("nd", "shown"),
    [(1_250_000_000, 1.25), (1_000_000_000, 1), (3_990_000_000, 3.99), (0, 0), (4_000_000, 0.004)],
)
def test_money_display(nd: int, shown: float) -> None:
    assert money_display(nd) == shown
    assert type(money_display(nd)) is type(shown)


@pytest.mark.parametrize(
    ("text", "nd"),
    [
        ("1.25", 1_250_000_000),
        ("1", 1_000_000_000),
        ("3.99", 3_990_000_000),
        (".5", 500_000_000),
        ("2.", 2_000_000_000),
        ("0", 0),
        ("0.000000001", 1),
        ("999999999.999999999", 999_999_999_999_999_999),
    ],
)
def test_parse_dollars(text: str, nd: int) -> None:
    assert parse_dollars(text) == nd


@pytest.mark.parametrize(
    "text",
    [
        "",
        ".",
        "-1",
        "-0.5",
        "1.2.3",
        "1,25",
        "$1",
        " 1",
        "1e3",
        "inf",
        "nan",
        _digits_in(ARABIC_INDIC, "1"),
        "1.0000000001",
        "1000000000",
    ],
)
def test_parse_dollars_rejects(text: str) -> None:
    with pytest.raises(ValueError, match="amount"):
        parse_dollars(text)


@given(st.decimals(min_value=0, max_value=Decimal("999999999.999999999"), places=9))
def test_parse_dollars_agrees_with_decimal(amount: Decimal) -> None:
    assert parse_dollars(f"{amount:f}") == int(amount * NANODOLLARS_PER_DOLLAR)


@pytest.mark.parametrize(
    ("city", "rate_center"),
    [
        ("Jersey City", "jerseycity"),
        ("Millbrae", "millbrae"),
        ("Saint-Jérôme", "saintjerom"),
        ("Montréal", "montreal"),
        ("Cañon City", "canoncity"),
        ("Coeur d'Alene", "coeurdalen"),
        ("St. John's", "stjohns"),
        ("Hāna", "hana"),
        ("Contrecœur", "contrecoeu"),
        ("  San Francisco  ", "sanfrancis"),
        ("Winston-Salem", "winstonsal"),
        ("Rum Cay & San Sal", "rumcaysans"),
        ("OWL'S HEAD", "owlshead"),
        ("Ab", "ab"),
    ],
)
def test_rate_center_from_city(city: str, rate_center: str) -> None:
    assert rate_center_from_city(city) == rate_center


@given(st.text())
def test_rate_center_is_ascii_lowercase_and_short(city: str) -> None:
    try:
        rate_center = rate_center_from_city(city)
    except ValueError:
        return
    assert 1 <= len(rate_center) <= 10
    assert rate_center.isascii() and rate_center.isalpha() and rate_center.islower()


@pytest.mark.parametrize("city", ["", "  ", "123", "東京", "---"])
def test_rate_center_needs_latin_letters(city: str) -> None:
    with pytest.raises(ValueError):
        rate_center_from_city(city)
