from __future__ import annotations

import itertools

import pytest
from hypothesis import given
from hypothesis import strategies as st

from telroute.text.segments import (
    GSM7,
    GSM_BASIC,
    GSM_EXTENSION,
    UCS2,
    count_segments,
    encoding_of,
    septet_length,
    split_segments,
)

EMOJI = "\U0001f600"  # two UTF-16 code units


def utf16_units(text: str) -> int:
    return len(text.encode("utf-16-be", "surrogatepass")) // 2


def test_extension_table_is_exactly_the_escaped_characters() -> None:
    assert set("^{}\\[~]|€\f") == GSM_EXTENSION
    assert len(GSM_BASIC) == 127  # 128 codes less the escape
    assert "\x1b" not in GSM_BASIC


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", GSM7),
        ("Hello @ £$¥ èé ΔΦ\n\r", GSM7),
        ("curly {braces} and €", GSM7),
        ("form\ffeed", GSM7),
        ("ç is not in the default table", UCS2),  # only Ç (capital) is
        ("emoji " + EMOJI, UCS2),
        ("Привет", UCS2),
        ("escape \x1b alone", UCS2),
    ],
)
def test_encoding_of(text: str, expected: int) -> None:
    assert encoding_of(text) == expected


def test_septet_length_counts_extension_characters_twice() -> None:
    assert septet_length("abc") == 3
    assert septet_length("€[]") == 6
    assert septet_length("") == 0


def test_septet_length_refuses_non_gsm_text() -> None:
    with pytest.raises(ValueError, match=r"GSM 03\.38"):
        septet_length("ü ok but ç is not")


@pytest.mark.parametrize(
    ("septets", "segments"),
    [(0, 1), (1, 1), (160, 1), (161, 2), (306, 2), (307, 3), (459, 3), (460, 4), (153 * 7, 7)],
)
def test_gsm_boundaries(septets: int, segments: int) -> None:
    text = "a" * septets
    assert count_segments(text) == segments
    _, parts = split_segments(text)
    assert len(parts) == segments
    assert all(len(part) <= 153 for part in parts) or segments == 1


def test_escape_pair_exactly_fills_160_is_one_segment() -> None:
    text = "a" * 158 + "€"
    assert septet_length(text) == 160
    assert count_segments(text) == 1


def test_escape_pair_pushing_past_160_makes_two_segments() -> None:
    text = "a" * 159 + "€"
    assert septet_length(text) == 161
    assert count_segments(text) == 2


def test_escape_pair_ending_at_septet_153_stays_in_first_part() -> None:
    text = "a" * 151 + "€" + "b" * 10  # the pair takes septets 152 and 153
    _, parts = split_segments(text)
    assert parts == ["a" * 151 + "€", "b" * 10]


def test_escape_pair_straddling_septets_153_and_154_moves_to_the_next_part() -> None:
    text = "a" * 152 + "€" + "b" * 10  # the pair would take septets 153 and 154
    _, parts = split_segments(text)
    assert parts == ["a" * 152, "€" + "b" * 10]
    assert [septet_length(part) for part in parts] == [152, 12]


def test_straddling_escape_can_add_a_segment() -> None:
    exact = "a" * 152 + "€" + "a" * 152  # 306 septets = 2 x 153, but the pair cannot be split
    assert septet_length(exact) == 306
    assert count_segments(exact) == 3
    assert count_segments("a" * 306) == 2


@pytest.mark.parametrize(
    ("units", "segments"),
    [(1, 1), (70, 1), (71, 2), (134, 2), (135, 3), (67 * 3, 3), (67 * 3 + 1, 4)],
)
def test_ucs2_boundaries(units: int, segments: int) -> None:
    text = "ж" * units
    assert encoding_of(text) == UCS2
    assert count_segments(text) == segments
    encoding, parts = split_segments(text)
    assert encoding == UCS2
    assert len(parts) == segments


def test_emoji_filling_unit_70_is_one_segment() -> None:
    text = "ж" * 68 + EMOJI
    assert utf16_units(text) == 70
    assert count_segments(text) == 1


def test_emoji_straddling_units_67_and_68_moves_to_the_next_part() -> None:
    text = "ж" * 66 + EMOJI + "ж" * 10
    _, parts = split_segments(text)
    assert parts == ["ж" * 66, EMOJI + "ж" * 10]


def test_emoji_ending_at_unit_67_stays_in_first_part() -> None:
    text = "ж" * 65 + EMOJI + "ж" * 10
    _, parts = split_segments(text)
    assert parts == ["ж" * 65 + EMOJI, "ж" * 10]


def test_one_non_gsm_character_turns_the_whole_text_ucs2() -> None:
    text = "a" * 100 + "ç"
    assert count_segments(text) == 2  # 101 units > 70
    assert count_segments("a" * 100) == 1


def test_empty_text_is_one_empty_segment() -> None:
    assert split_segments("") == (GSM7, [""])


gsm_text = st.text(alphabet=sorted(GSM_BASIC | GSM_EXTENSION), max_size=700)
any_text = st.text(alphabet=st.characters(codec="utf-8"), max_size=500)
mixed_text = st.one_of(gsm_text, any_text, st.text(alphabet=["a", "€", "ж", EMOJI], max_size=400))


def part_fits(encoding: int, part: str, single: bool) -> bool:
    if encoding == GSM7:
        return septet_length(part) <= (160 if single else 153)
    return utf16_units(part) <= (70 if single else 67)


@given(mixed_text)
def test_parts_join_back_to_the_text(text: str) -> None:
    _, parts = split_segments(text)
    assert "".join(parts) == text


@given(mixed_text)
def test_every_part_fits_and_none_is_empty(text: str) -> None:
    encoding, parts = split_segments(text)
    assert encoding == encoding_of(text)
    assert all(part_fits(encoding, part, single=len(parts) == 1) for part in parts)
    assert len(parts) == 1 or all(parts)
    assert count_segments(text) == len(parts)


@given(mixed_text)
def test_parts_are_as_full_as_the_pairs_allow(text: str) -> None:
    encoding, parts = split_segments(text)
    for part, following in itertools.pairwise(parts):
        # the next part's first character did not fit: otherwise the split was premature
        assert not part_fits(encoding, part + following[0], single=False)
