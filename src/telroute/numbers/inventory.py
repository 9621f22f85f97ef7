"""Number inventory: the seeded NANP generator and the operators' CSV import parser (no database).

Where the generated blocks come from (`phonenumbers` geocoder data, locale `en`):
- every 7-digit `1NPANXX` prefix whose description is "City, ST" with a US (states, DC, territories)
  or Canadian code, or a bare state/province name ("Ontario"); the city, or else the bare name,
  gives the rate center. Other descriptions (Caribbean islands, cities without a state) are skipped;
- area codes the data knows only as a whole ("1212": "New York, NY", "1332": "New York") get
  `BLOCKS_PER_NPA` exchanges chosen by the seeded RNG, placed like their area-code description;
- toll-free area codes 800 833 844 855 866 877 888 get `BLOCKS_PER_NPA` exchanges each, with
  state `us` (the toll-free registry is the US one) and rate center `tollfree`.
Each block gets `per_block` distinct line numbers from `random.Random(seed)`, one of them always
memorable or premium, so every exchange has numbers above the standard price. Rows come out in
ascending `value` order, so every value is unique.
"""

import csv
import importlib.util
import itertools
import random
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Final, NamedTuple, TypeVar, cast

from telroute.numbers.model import (
    MEMORABLE_LINES,
    PREMIUM_LINES,
    TOLLFREE_NPAS,
    normalize_number,
    normalize_number_type_filter,
    number_type_of,
    parse_dollars,
    rate_center_from_city,
    tier_of,
)

_T = TypeVar("_T")

DEFAULT_PER_BLOCK: Final = 32
BLOCKS_PER_NPA: Final = 16
LINES_PER_BLOCK: Final = 10_000
TOLLFREE_STATE: Final = "us"
TOLLFREE_RATE_CENTER: Final = "tollfree"
CSV_COLUMNS: Final = ("value", "state", "rate_center", "number_type", "setup_cost", "monthly_cost")

_STATE_CODES: Final = {
    "alabama": "al", "alaska": "ak", "arizona": "az", "arkansas": "ar", "california": "ca",
    "colorado": "co", "connecticut": "ct", "delaware": "de", "florida": "fl", "georgia": "ga",
    "hawaii": "hi", "idaho": "id", "illinois": "il", "indiana": "in", "iowa": "ia", "kansas": "ks",
    "kentucky": "ky", "louisiana": "la", "maine": "me", "maryland": "md", "massachusetts": "ma",
    "michigan": "mi", "minnesota": "mn", "mississippi": "ms", "missouri": "mo", "montana": "mt",
    "nebraska": "ne", "nevada": "nv", "new hampshire": "nh", "new jersey": "nj", "new mexico": "nm",
    "new york": "ny", "north carolina": "nc", "north dakota": "nd", "ohio": "oh", "oklahoma": "ok",
    "oregon": "or", "pennsylvania": "pa", "rhode island": "ri", "south carolina": "sc",
    "south dakota": "sd", "tennessee": "tn", "texas": "tx", "utah": "ut", "vermont": "vt",
    "virginia": "va", "washington": "wa", "washington state": "wa", "west virginia": "wv",
    "wisconsin": "wi", "wyoming": "wy", "washington d.c.": "dc", "district of columbia": "dc",
    "puerto rico": "pr", "guam": "gu", "american samoa": "as", "northern mariana islands": "mp",
    "us virgin islands": "vi", "alberta": "ab", "british columbia": "bc", "british colombia": "bc",
    "manitoba": "mb", "new brunswick": "nb", "newfoundland and labrador": "nl",
    "nova scotia": "ns", "nova scotia/prince edward island": "ns", "ontario": "on",
    "prince edward island": "pe", "quebec": "qc", "québec": "qc", "saskatchewan": "sk",
    "northwest territories": "nt", "nunavut": "nu", "yukon": "yt",
}  # fmt: skip
_KNOWN_STATES: Final = frozenset(_STATE_CODES.values())
_ASSIGNABLE_NXX: Final = tuple(str(n) for n in range(200, 1000) if n % 100 != 11)  # no N11 codes
_LINES: Final = tuple(f"{line:04d}" for line in range(LINES_PER_BLOCK))
_VANITY_LINES: Final = tuple(sorted(int(line) for line in MEMORABLE_LINES | PREMIUM_LINES))


class InventoryRow(NamedTuple):
    """One number of the inventory; a plain tuple, so it binds directly as positional SQL parameters."""

    value: str
    npa: str
    nxx: str
    state: str
    rate_center: str
    number_type: str
    setup_cost_nd: int
    monthly_cost_nd: int


@dataclass(frozen=True, slots=True)
class RowError:
    line_number: int  # 1-based; the header is line 1
    message: str


class _Block(NamedTuple):
    npa: str
    nxx: str
    state: str
    rate_center: str


def place_of(description: str) -> tuple[str, str] | None:
    """`Jersey City, NJ` -> (`jerseycity`, `nj`); `Ontario` -> (`ontario`, `on`); None if not US/CA."""
    *place, last = description.split(", ")
    state = last.lower() if place else _STATE_CODES.get(last.lower())
    if state not in _KNOWN_STATES:
        return None
    try:
        return rate_center_from_city(place[-1] if place else last), state
    except ValueError:
        return None


def _nanp_descriptions() -> dict[str, str]:
    """`1NPA[NXX]` prefix -> English description, from phonenumbers' geocoder data files.

    Importing `phonenumbers.geodata` loads every country's data (~100 MB resident, kept for the life
    of the process). Its generated `dataN.py` files hold the prefixes in sorted order, so executing
    them one by one until a non-`1` prefix appears reads only the NANP part (~8 MB, freed afterwards).
    """
    spec = importlib.util.find_spec("phonenumbers.geodata")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("phonenumbers.geodata not found")
    folder = Path(next(iter(spec.submodule_search_locations)))
    descriptions: dict[str, str] = {}
    for index in itertools.count():
        data = _load_data_file(folder / f"data{index}.py")
        descriptions.update((key, names["en"]) for key, names in data.items() if key[0] == "1" and "en" in names)
        if any(key[0] != "1" for key in data):
            return descriptions
    raise AssertionError("unreachable")


def _load_data_file(path: Path) -> dict[str, dict[str, str]]:
    spec = importlib.util.spec_from_file_location(f"phonenumbers.geodata.{path.stem}", path)
    if spec is None or spec.loader is None:
        raise RuntimeError(f"cannot load {path}")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)  # not put in sys.modules: the data is dropped once read
    return cast(dict[str, dict[str, str]], module.data)


def _geocoded_blocks(descriptions: dict[str, str]) -> list[_Block]:
    blocks = []
    for prefix, description in descriptions.items():
        if len(prefix) != 7 or prefix[1:4] in TOLLFREE_NPAS:
            continue
        place = place_of(description)
        if place is not None:
            blocks.append(_Block(prefix[1:4], prefix[4:], place[1], place[0]))
    return blocks


def _npa_only_places(descriptions: dict[str, str], covered: set[str]) -> dict[str, tuple[str, str]]:
    places = {}
    for prefix, description in descriptions.items():
        if len(prefix) == 4 and prefix[1:] not in covered:
            place = place_of(description)
            if place is not None:
                places[prefix[1:]] = place
    return places


def _all_blocks(rng: random.Random) -> list[_Block]:
    descriptions = _nanp_descriptions()
    blocks = _geocoded_blocks(descriptions)
    places = _npa_only_places(descriptions, {block.npa for block in blocks})
    places.update((npa, (TOLLFREE_RATE_CENTER, TOLLFREE_STATE)) for npa in TOLLFREE_NPAS)
    for npa in sorted(places):
        rate_center, state = places[npa]
        nxxs = rng.sample(_ASSIGNABLE_NXX, BLOCKS_PER_NPA)
        blocks.extend(_Block(npa, nxx, state, rate_center) for nxx in nxxs)
    blocks.sort()
    return blocks


def _pick_lines(rng: random.Random, per_block: int) -> list[int]:
    lines = rng.sample(range(LINES_PER_BLOCK), per_block)
    vanity = rng.choice(_VANITY_LINES)
    if vanity not in lines:
        lines[0] = vanity
    lines.sort()
    return lines


def _block_rows(block: _Block, lines: list[int]) -> Iterator[InventoryRow]:
    npa, nxx, state, rate_center = block
    prefix = "1" + npa + nxx
    number_type = number_type_of(prefix + "0000")
    for line in lines:
        value = prefix + _LINES[line]
        tier = tier_of(value)
        yield InventoryRow(value, npa, nxx, state, rate_center, number_type, tier.setup_cost_nd, tier.monthly_cost_nd)


def generate_inventory(seed: int = 0, per_block: int = DEFAULT_PER_BLOCK) -> Iterator[InventoryRow]:
    """The seeded NANP inventory, in ascending `value` order; the same rows for the same arguments."""
    if not 1 <= per_block <= LINES_PER_BLOCK:
        raise ValueError(f"per_block must be between 1 and {LINES_PER_BLOCK}")
    rng = random.Random(seed)
    for block in _all_blocks(rng):
        yield from _block_rows(block, _pick_lines(rng, per_block))


def parse_inventory_csv(lines: Iterable[str]) -> tuple[list[InventoryRow], list[RowError]]:
    """Parse an import file; every bad row is reported (1-based line numbers), none is skipped silently.

    Blank `number_type`, `setup_cost` or `monthly_cost` cells take the number's own type and tier price.
    """
    records = _records(lines)
    header_error = _check_header(next(records, (1, None))[1])
    if header_error is not None:
        return [], [RowError(1, header_error)]
    rows: list[InventoryRow] = []
    errors: list[RowError] = []
    first_line: dict[str, int] = {}
    for line_number, cells in records:
        try:
            row = _parse_record(cells, line_number, first_line)
        except ValueError as error:
            errors.append(RowError(line_number, str(error)))
        else:
            if row is not None:
                rows.append(row)
    return rows, errors


def _records(lines: Iterable[str]) -> Iterator[tuple[int, list[str] | str]]:
    """(line number, cells), or (line number, why) for a record the csv module cannot read."""
    reader = csv.reader(lines)
    while True:
        try:
            cells = next(reader)
        except StopIteration:
            return
        except csv.Error as error:  # the reader resumes at the next line
            yield reader.line_num, f"not valid CSV: {error}"
        else:
            yield reader.line_num, cells


def _check_header(header: list[str] | str | None) -> str | None:
    names = tuple(cell.strip().lower() for cell in header) if isinstance(header, list) else ()
    if names and names[0].startswith("\ufeff"):  # a byte-order mark left by spreadsheet exports
        names = (names[0][1:], *names[1:])
    if names == CSV_COLUMNS:
        return None
    return f"header must be exactly {','.join(CSV_COLUMNS)}"


def _parse_record(cells: list[str] | str, line_number: int, first_line: dict[str, int]) -> InventoryRow | None:
    if isinstance(cells, str):
        raise ValueError(cells)
    if not any(cell.strip() for cell in cells):
        return None  # blank line
    row = _parse_row(cells)
    _check_unique(row.value, line_number, first_line)
    return row


def _check_unique(value: str, line_number: int, first_line: dict[str, int]) -> None:
    seen = first_line.setdefault(value, line_number)
    if seen != line_number:
        raise ValueError(f"duplicate number {value}: already on line {seen}")


def _parse_row(cells: list[str]) -> InventoryRow:
    if len(cells) != len(CSV_COLUMNS):
        raise ValueError(f"expected {len(CSV_COLUMNS)} columns, found {len(cells)}")
    value, state, rate_center, number_type, setup, monthly = (cell.strip() for cell in cells)
    value = _field("value", normalize_number, value)
    tier = tier_of(value)
    return InventoryRow(
        value=value,
        npa=value[1:4],
        nxx=value[4:7],
        state=_field("state", _parse_state, state),
        rate_center=_field("rate_center", _parse_rate_center, rate_center),
        number_type=_parse_number_type(number_type, value),
        setup_cost_nd=_field("setup_cost", parse_dollars, setup) if setup else tier.setup_cost_nd,
        monthly_cost_nd=_field("monthly_cost", parse_dollars, monthly) if monthly else tier.monthly_cost_nd,
    )


def _field(name: str, parse: Callable[[str], _T], text: str) -> _T:
    try:
        return parse(text)
    except ValueError as error:
        raise ValueError(f"{name}: {error}") from None


def _parse_state(text: str) -> str:
    if len(text) != 2 or not (text.isascii() and text.isalpha()):
        raise ValueError("must be a 2-letter state or province code")
    return text.lower()


def _parse_rate_center(text: str) -> str:
    lowered = text.lower()
    if not 1 <= len(lowered) <= 10 or not (lowered.isascii() and lowered.isalnum()):
        raise ValueError("must be 1 to 10 letters or digits")
    return lowered


def _parse_number_type(text: str, value: str) -> str:
    actual = number_type_of(value)
    if not text:
        return actual
    stored = _field("number_type", normalize_number_type_filter, text)
    if stored != actual:
        raise ValueError(f"number_type: {value} is {actual}, not {stored}")
    return stored
