"""Pure rules of the numbers feature: normalization, number types, price tiers, money, rate centers.

Standard library only; no I/O.

Price tiers (integer nanodollars; 1 dollar = 1_000_000_000 nd):

    tier       setup  monthly  which numbers
    standard   1.00   1.25     local numbers that are not memorable
    tollfree   1.00   1.75     toll-free (800 833 844 855 866 877 888) numbers that are not memorable
    memorable  3.99   2.50     line number (last 4 digits) is a repeat 1111..9999, a run 0123..6789 or
                               9876..3210, a pair ABAB (1212) or AABB (1122), or a round thousand 1000..9000
    premium    9.99   5.00     line number 0000 (NXX-0000), or all 7 subscriber digits equal (555-5555)

Memorable and premium prices are the same for local and toll-free numbers.
"""

import unicodedata
from dataclasses import dataclass
from typing import Final

NANODOLLARS_PER_DOLLAR: Final = 1_000_000_000
RATE_CENTER_MAX: Final = 10
TOLLFREE_NPAS: Final = frozenset({"800", "833", "844", "855", "866", "877", "888"})

_DIGITS: Final = "0123456789"
_MAX_DOLLAR_DIGITS: Final = 9  # keeps every amount far below a signed 64-bit column's limit
_NUMBER_TYPE_FILTERS: Final = {
    "standard": "standard",
    "longcode": "standard",
    "tollfree": "tollfree",
    "toll-free": "tollfree",
}
# Letters that NFKD does not decompose into a base letter plus accents.
_LETTER_FOLDS: Final = str.maketrans(
    {"œ": "oe", "Œ": "oe", "æ": "ae", "Æ": "ae", "ß": "ss", "ø": "o", "Ø": "o", "ł": "l", "Ł": "l"}
)


@dataclass(frozen=True, slots=True)
class Tier:
    name: str
    setup_cost_nd: int
    monthly_cost_nd: int


STANDARD: Final = Tier("standard", 1_000_000_000, 1_250_000_000)
TOLLFREE: Final = Tier("tollfree", 1_000_000_000, 1_750_000_000)
MEMORABLE: Final = Tier("memorable", 3_990_000_000, 2_500_000_000)
PREMIUM: Final = Tier("premium", 9_990_000_000, 5_000_000_000)
TIERS: Final = (STANDARD, TOLLFREE, MEMORABLE, PREMIUM)


def _is_ascii_digits(text: str) -> bool:
    # str.isdigit() alone accepts '١٢٣' and '²'; int() would then happily parse the former.
    return text.isascii() and text.isdigit()


def normalize_number(raw: str) -> str:
    """`12065551234`, `+12065551234` or `2065551234` -> `12065551234`; ValueError otherwise."""
    plus = raw.startswith("+")
    digits = raw[1:] if plus else raw
    if not _is_ascii_digits(digits):
        raise ValueError("phone number must contain digits only (an optional leading + is allowed)")
    if len(digits) == 10 and not plus:
        digits = "1" + digits
    if len(digits) != 11 or digits[0] != "1":
        raise ValueError("phone number must be 11 digits starting with 1, e.g. 12065551234")
    if digits[1] in "01":
        raise ValueError("phone number area code must not start with 0 or 1")
    if digits[4] in "01":
        raise ValueError("phone number exchange must not start with 0 or 1")
    return digits


def normalize_digits(raw: str, name: str) -> str:
    """Digit filters (`contains`, `ends_with`): ASCII digits only, returned unchanged."""
    if not _is_ascii_digits(raw):
        raise ValueError(f"{name} must contain digits only")
    return raw


def normalize_starts_with(raw: str) -> str:
    """Strip one leading `+`; prepend `1` (NANP area codes never start with 1): `646` -> `1646`."""
    digits = normalize_digits(raw.removeprefix("+"), "starts_with")
    return digits if digits.startswith("1") else "1" + digits


def prefix_upper_bound(prefix: str) -> str:
    """Smallest digit string greater than every digit string starting with `prefix`.

    `1646` -> `1647`, `1649` -> `165`. Range scans use `value >= prefix AND value < bound`;
    the bound stays digits-only so it sorts the same under any collation (PostgreSQL's
    locale collations ignore punctuation such as the `:` that follows `9` in ASCII).
    """
    if not _is_ascii_digits(prefix):
        raise ValueError("prefix must contain digits only")
    head = prefix.rstrip("9")
    if not head:
        raise ValueError("a prefix of only 9s has no digit upper bound")
    return head[:-1] + chr(ord(head[-1]) + 1)


def number_type_of(value: str) -> str:
    """`tollfree` for 8XX toll-free area codes, else `standard` (10- or 11-digit `value`)."""
    return "tollfree" if value[-10:-7] in TOLLFREE_NPAS else "standard"


def message_type_of(value: str) -> str:
    """The MDR `message_type` of a number: `toll-free` or `longcode`."""
    return "toll-free" if number_type_of(value) == "tollfree" else "longcode"


def normalize_number_type_filter(raw: str) -> str:
    """`standard|longcode|tollfree|toll-free` (any case) -> the stored `standard` or `tollfree`."""
    stored = _NUMBER_TYPE_FILTERS.get(raw.lower())
    if stored is None:
        raise ValueError("number_type must be one of standard, longcode, tollfree, toll-free")
    return stored


def _memorable_lines() -> frozenset[str]:
    repeats = {d * 4 for d in _DIGITS[1:]}
    runs = {_DIGITS[i : i + 4] for i in range(7)}
    runs |= {run[::-1] for run in runs}
    pairs = {a + b + a + b for a in _DIGITS for b in _DIGITS if a != b}
    pairs |= {a + a + b + b for a in _DIGITS for b in _DIGITS if a != b}
    thousands = {d + "000" for d in _DIGITS[1:]}
    return frozenset(repeats | runs | pairs | thousands)


MEMORABLE_LINES: Final = _memorable_lines()
PREMIUM_LINES: Final = frozenset({"0000"})
_REPDIGIT_SUBSCRIBERS: Final = frozenset(d * 7 for d in _DIGITS[2:])


def tier_of(value: str) -> Tier:
    """The price tier of a normalized number (see the table in the module docstring)."""
    line = value[-4:]
    if line in PREMIUM_LINES or value[-7:] in _REPDIGIT_SUBSCRIBERS:
        return PREMIUM
    if line in MEMORABLE_LINES:
        return MEMORABLE
    return TOLLFREE if number_type_of(value) == "tollfree" else STANDARD


def money_display(nd: int) -> float:
    """Nanodollars as a JSON number: 1_250_000_000 -> 1.25; whole dollars stay integers (1)."""
    dollars, remainder = divmod(nd, NANODOLLARS_PER_DOLLAR)
    return dollars if remainder == 0 else nd / NANODOLLARS_PER_DOLLAR


def parse_dollars(text: str) -> int:
    """A decimal dollar string (`1.25`, `3`, `.5`) -> integer nanodollars, without floats."""
    if text.startswith("-"):
        raise ValueError("amount must not be negative")
    whole, _, fraction = text.partition(".")
    if not (whole or fraction) or not all(_is_ascii_digits(part) for part in (whole, fraction) if part):
        raise ValueError("amount must be a decimal number of dollars, e.g. 1.25")
    if len(whole) > _MAX_DOLLAR_DIGITS or len(fraction) > 9:
        raise ValueError("amount must be below 1000000000 dollars with at most 9 decimals")
    return int(whole or "0") * NANODOLLARS_PER_DOLLAR + int(fraction.ljust(9, "0"))


def rate_center_from_city(city: str) -> str:
    """`Saint-Jérôme` -> `saintjerom`: ASCII lower-case letters only, at most 10 characters."""
    decomposed = unicodedata.normalize("NFKD", city.translate(_LETTER_FOLDS)).lower()
    letters = "".join(c for c in decomposed if "a" <= c <= "z")
    if not letters:
        raise ValueError(f"no latin letters in city name {city!r}")
    return letters[:RATE_CENTER_MAX]
