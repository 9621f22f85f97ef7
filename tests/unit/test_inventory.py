import re
from collections import Counter
from dataclasses import dataclass, field
from functools import cache
from itertools import islice

import pytest

from telroute.numbers.inventory import (
    BLOCKS_PER_NPA,
    InventoryRow,
    RowError,
    generate_inventory,
    parse_inventory_csv,
    place_of,
)
from telroute.numbers.model import (
    MEMORABLE,
    PREMIUM,
    STANDARD,
    TOLLFREE,
    TOLLFREE_NPAS,
    Tier,
    normalize_number,
    number_type_of,
    tier_of,
)

US_AND_CANADA = {
    "al", "ak", "az", "ar", "ca", "co", "ct", "de", "fl", "ga", "hi", "id", "il", "in", "ia", "ks", "ky",
    "la", "me", "md", "ma", "mi", "mn", "ms", "mo", "mt", "ne", "nv", "nh", "nj", "nm", "ny", "nc", "nd",
    "oh", "ok", "or", "pa", "ri", "sc", "sd", "tn", "tx", "ut", "vt", "va", "wa", "wv", "wi", "wy", "dc",
    "pr", "vi", "gu", "as", "mp", "ab", "bc", "mb", "nb", "nl", "ns", "nt", "nu", "on", "pe", "qc", "sk",
    "yt",
}  # fmt: skip
RATE_CENTER = re.compile(r"[a-z]{1,10}")


@pytest.mark.parametrize(
    ("description", "place"),
    [
        ("Jersey City, NJ", ("jerseycity", "nj")),
        ("Montréal, QC", ("montreal", "qc")),
        ("Downtown Brooklyn, Brooklyn, NY", ("brooklyn", "ny")),
        ("Travis Air Force Base, Fairfield, CA", ("fairfield", "ca")),
        ("Chtamstths, VI", ("chtamstths", "vi")),
        ("Ontario", ("ontario", "on")),
        ("New York", ("newyork", "ny")),
        ("Washington D.C.", ("washington", "dc")),
        ("Washington State", ("washington", "wa")),
        ("British Colombia", ("britishcol", "bc")),
        ("Nova Scotia/Prince Edward Island", ("novascotia", "ns")),
    ],
)
def test_place_of_us_and_canadian_descriptions(description: str, place: tuple[str, str]) -> None:
    assert place_of(description) == place


@pytest.mark.parametrize(
    "description",
    ["New Providence", "Cayman Islands", "Tamuning", "Watson Lake", "Nassau, NP", "", "東京, NY"],
)
def test_place_of_skips_what_is_not_a_us_or_canadian_place(description: str) -> None:
    assert place_of(description) is None


@dataclass
class Summary:
    """Everything the tests check about the default inventory, gathered in one pass over ~1M rows."""

    count: int = 0
    ascending: bool = True
    broken: list[tuple[InventoryRow, str]] = field(default_factory=list)
    tiers: Counter[str] = field(default_factory=Counter)
    npas: set[str] = field(default_factory=set)
    blocks: Counter[tuple[str, str]] = field(default_factory=Counter)
    priced_blocks: set[tuple[str, str]] = field(default_factory=set)
    places: dict[tuple[str, str], tuple[str, str]] = field(default_factory=dict)


@cache
def _place_problem(npa: str, state: str, rate_center: str) -> str | None:
    if not (state in US_AND_CANADA or (npa in TOLLFREE_NPAS and state == "us")):
        return "state"
    return None if RATE_CENTER.fullmatch(rate_center) else "rate_center"


def _problem(row: InventoryRow, tier: Tier) -> str | None:
    value = row.value
    derived = (normalize_number(value), value[1:4], value[4:7], number_type_of(value))
    if (value, row.npa, row.nxx, row.number_type) != derived:
        return "value, npa, nxx or number_type"
    if (row.setup_cost_nd, row.monthly_cost_nd) != (tier.setup_cost_nd, tier.monthly_cost_nd):
        return "price"
    return _place_problem(row.npa, row.state, row.rate_center)


@pytest.fixture(scope="module")
def summary() -> Summary:
    result = Summary()
    previous = ""
    for row in generate_inventory():
        result.count += 1
        result.ascending &= row.value > previous
        previous = row.value
        tier = tier_of(row.value)
        problem = _problem(row, tier)
        if problem is not None:
            result.broken.append((row, problem))
        result.tiers[tier.name] += 1
        result.npas.add(row.npa)
        result.blocks[row.npa, row.nxx] += 1
        if row.setup_cost_nd > STANDARD.setup_cost_nd:
            result.priced_blocks.add((row.npa, row.nxx))
        result.places[row.npa, row.nxx] = (row.rate_center, row.state)
    return result


def test_inventory_has_a_million_numbers_in_300_area_codes(summary: Summary) -> None:
    assert summary.count >= 1_000_000
    assert len(summary.npas) >= 300


def test_every_generated_row_follows_the_rules(summary: Summary) -> None:
    assert summary.broken[:5] == []


def test_values_ascend_so_they_are_unique(summary: Summary) -> None:
    assert summary.ascending


def test_every_block_has_numbers_above_the_standard_price(summary: Summary) -> None:
    assert summary.priced_blocks == set(summary.blocks)


def test_all_tiers_are_present(summary: Summary) -> None:
    assert set(summary.tiers) == {STANDARD.name, TOLLFREE.name, MEMORABLE.name, PREMIUM.name}
    assert summary.tiers[STANDARD.name] > 0.9 * summary.count


def test_blocks_come_from_the_geocoder_data(summary: Summary) -> None:
    assert summary.places["201", "200"] == ("jerseycity", "nj")
    assert summary.places["416", "203"] == ("toronto", "on")
    assert "242" not in summary.npas  # the Bahamas share +1 but are not US or Canada


def test_area_codes_known_only_as_a_whole_get_seeded_exchanges(summary: Summary) -> None:
    manhattan = {nxx for npa, nxx in summary.blocks if npa == "212"}
    assert len(manhattan) == BLOCKS_PER_NPA
    assert {summary.places["212", nxx] for nxx in manhattan} == {("newyork", "ny")}


def test_tollfree_blocks(summary: Summary) -> None:
    for npa in TOLLFREE_NPAS:
        exchanges = [nxx for n, nxx in summary.blocks if n == npa]
        assert len(exchanges) == BLOCKS_PER_NPA
        assert {summary.places[npa, nxx] for nxx in exchanges} == {("tollfree", "us")}


def test_each_block_has_per_block_numbers(summary: Summary) -> None:
    assert set(summary.blocks.values()) == {32}


def test_generation_is_deterministic_for_a_seed() -> None:
    first = list(generate_inventory(seed=7, per_block=2))
    assert list(generate_inventory(seed=7, per_block=2)) == first
    assert list(generate_inventory(seed=8, per_block=2)) != first


def test_default_seed_is_zero() -> None:
    assert list(islice(generate_inventory(), 500)) == list(islice(generate_inventory(seed=0), 500))


@pytest.mark.parametrize("per_block", [0, -1, 10_001])
def test_per_block_bounds(per_block: int) -> None:
    with pytest.raises(ValueError, match="per_block"):
        next(generate_inventory(per_block=per_block))


HEADER = "value,state,rate_center,number_type,setup_cost,monthly_cost\n"


def _parse(body: str, header: str = HEADER) -> tuple[list[InventoryRow], list[RowError]]:
    return parse_inventory_csv((header + body).splitlines(keepends=True))


def test_csv_valid_rows_are_normalized() -> None:
    rows, errors = _parse(
        "12065550100,WA,Seattle,standard,1.25,2\n"
        "+18005550199,Us,TOLLFREE,toll-free,0.5,1.75\n"
        "2065550101, wa , seattle ,longcode,1,1.25\n"
    )
    assert errors == []
    assert rows == [
        InventoryRow("12065550100", "206", "555", "wa", "seattle", "standard", 1_250_000_000, 2_000_000_000),
        InventoryRow("18005550199", "800", "555", "us", "tollfree", "tollfree", 500_000_000, 1_750_000_000),
        InventoryRow("12065550101", "206", "555", "wa", "seattle", "standard", 1_000_000_000, 1_250_000_000),
    ]


def test_csv_blank_type_and_prices_come_from_the_number() -> None:
    rows, errors = _parse("12065551212,wa,seattle,,,\n18005550142,us,tollfree,,,\n")
    assert errors == []
    assert [(r.number_type, r.setup_cost_nd, r.monthly_cost_nd) for r in rows] == [
        ("standard", MEMORABLE.setup_cost_nd, MEMORABLE.monthly_cost_nd),
        ("tollfree", TOLLFREE.setup_cost_nd, TOLLFREE.monthly_cost_nd),
    ]


def test_csv_reports_every_bad_row_with_its_line_number() -> None:
    rows, errors = _parse(
        "12065550100,wa,seattle,standard,1,1.25\n"  # line 2: fine
        "1206555010x,wa,seattle,standard,1,1.25\n"  # 3
        "12065550102,washington,seattle,standard,1,1.25\n"  # 4
        "12065550103,wa,seattle wa,standard,1,1.25\n"  # 5
        "12065550104,wa,seattle,mobile,1,1.25\n"  # 6
        "12065550105,wa,seattle,tollfree,1,1.25\n"  # 7
        "12065550106,wa,seattle,standard,-1,1.25\n"  # 8
        "12065550107,wa,seattle,standard,1,$1.25\n"  # 9
        "12065550108,wa,seattle\n"  # 10
        "\n"  # 11: blank lines are skipped but still counted
        "+12065550100,wa,seattle,standard,1,1.25\n"  # 12: same number as line 2
        "12065550109,wa,seattle,standard,1,1.25\n"  # 13: fine
    )
    assert [r.value for r in rows] == ["12065550100", "12065550109"]
    assert [(e.line_number, e.message.split(":")[0]) for e in errors] == [
        (3, "value"),
        (4, "state"),
        (5, "rate_center"),
        (6, "number_type"),
        (7, "number_type"),
        (8, "setup_cost"),
        (9, "monthly_cost"),
        (10, "expected 6 columns, found 3"),
        (12, "duplicate number 12065550100"),
    ]
    assert errors[-1].message == "duplicate number 12065550100: already on line 2"


def test_csv_unicode_digits_are_not_numbers() -> None:
    arabic = "".join(chr(0x0660 + int(d)) for d in "12065550100")
    _, errors = _parse(f"{arabic},wa,seattle,standard,1,1.25\n")
    assert [e.line_number for e in errors] == [2]


def test_csv_header_may_vary_in_case_spacing_and_bom() -> None:
    header = "\ufeffValue, State,RATE_CENTER,number_type,setup_cost,monthly_cost\r\n"
    rows, errors = _parse("12065550100,wa,seattle,standard,1,1.25\r\n", header=header)
    assert (len(rows), errors) == (1, [])


@pytest.mark.parametrize(
    "header",
    ["", "value,state,rate_center,number_type,setup_cost\n", "number,state,rate_center,number_type,a,b\n"],
)
def test_csv_bad_header_rejects_the_file(header: str) -> None:
    rows, errors = _parse("12065550100,wa,seattle,standard,1,1.25\n", header=header)
    assert rows == []
    assert [e.line_number for e in errors] == [1]
    assert "value,state,rate_center,number_type,setup_cost,monthly_cost" in errors[0].message


def test_csv_unreadable_record_is_reported_and_parsing_goes_on() -> None:
    huge = "x" * 200_000
    rows, errors = _parse(f'"{huge}\n12065550100,wa,seattle,standard,1,1.25\n')
    assert [r.value for r in rows] == ["12065550100"]
    assert [e.line_number for e in errors] == [2]
    assert errors[0].message.startswith("not valid CSV")
