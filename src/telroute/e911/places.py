"""Where an address may be: US states and territories with their ZIP codes (the `zipcodes` package's
dataset, USPS-derived, shipped inside the package: nothing is downloaded), Canadian provinces with the
shape of their postal codes (no dataset: the first letter must be the province's)."""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import cache
from typing import Any

import zipcodes

US = "US"
CANADA = "CA"
_COUNTRIES = {"US": US, "USA": US, "UNITED STATES": US, "CA": CANADA, "CAN": CANADA, "CANADA": CANADA}
_STATE_CODES = (
    "AL AK AZ AR CA CO CT DE DC FL GA HI ID IL IN IA KS KY LA ME MD MA MI MN MS MO MT NE NV NH NJ NM NY NC ND "
    "OH OK OR PA RI SC SD TN TX UT VT VA WA WV WI WY AS GU MP PR VI"
)
US_STATES = frozenset(_STATE_CODES.split())
# The first letter of a Canadian postal code names its province (or part of one).
PROVINCE_LETTERS = {
    "NL": "A", "NS": "B", "PE": "C", "NB": "E", "QC": "GHJ", "ON": "KLMNP", "MB": "R",
    "SK": "S", "AB": "T", "BC": "V", "NT": "X", "NU": "X", "YT": "Y",
}  # fmt: skip
_matching: Callable[[str], list[dict[str, Any]]] = zipcodes.matching  # the package is untyped
_US_ZIP = re.compile(r"\d{5}(-\d{4})?")
_CANADIAN_POSTAL_CODE = re.compile(r"[A-Z]\d[A-Z] ?\d[A-Z]\d")


class PlaceError(ValueError):
    """A fact about the address is wrong; `field` names the attribute to point at."""

    def __init__(self, field: str, detail: str) -> None:
        super().__init__(detail)
        self.field = field
        self.detail = detail


def country_code(raw: str) -> str:
    code = _COUNTRIES.get(raw.strip().upper())
    if code is None:
        raise PlaceError("country", "country must be US (or USA) or CA (Canada)")
    return code


@cache
def zip_state(zip5: str) -> str | None:
    """The state of a five-digit ZIP code, or None if the dataset does not know it. The dataset is
    loaded on the first call (seconds): call this away from the event loop."""
    found = _matching(zip5)
    return str(found[0]["state"]) if found else None


def check_us(state: str, zip_code: str) -> None:
    if state not in US_STATES:
        raise PlaceError("state", f"{state!r} is not a US state or territory code")
    if not _US_ZIP.fullmatch(zip_code):
        raise PlaceError("zip", "zip must be five digits, or ZIP+4 (12345-6789)")
    owner = zip_state(zip_code[:5])
    if owner is None:
        raise PlaceError("zip", f"ZIP code {zip_code[:5]} does not exist")
    if owner != state:
        raise PlaceError("zip", f"ZIP code {zip_code[:5]} is in {owner}, not in {state}")


def check_canada(province: str, postal_code: str) -> None:
    letters = PROVINCE_LETTERS.get(province)
    if letters is None:
        raise PlaceError("state", f"{province!r} is not a Canadian province or territory code")
    if not _CANADIAN_POSTAL_CODE.fullmatch(postal_code.upper()):
        raise PlaceError("zip", "a Canadian postal code looks like A1A 1A1")
    if postal_code[0].upper() not in letters:
        raise PlaceError("zip", f"postal code {postal_code} is not in {province}")
